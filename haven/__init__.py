"""Haven: an anonymous chat helpline for victims of sexual exploitation."""
