"""The admin site is for administrators: accounts and groups. Transcripts are not shown here."""
