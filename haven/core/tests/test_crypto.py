"""Message text is encrypted at rest: a copy of the database shows no conversation.

Keys come from HAVEN_ENCRYPTION_KEYS (newest first); ``haven rotatekeys`` moves every
message to the newest key; a value no configured key opens gives a plain error.
"""

from __future__ import annotations

import importlib
import io
import uuid
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.core.cache import cache
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import connection

from haven.chat import selectors, services
from haven.chat.models import Conversation, Message
from haven.core import clock, crypto

pytestmark = pytest.mark.django_db

migration = importlib.import_module("haven.chat.migrations.0003_encrypt_message_text")


def new_key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(autouse=True)
def _empty_cache():  # type: ignore[no-untyped-def]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def key_a(settings) -> str:  # type: ignore[no-untyped-def]
    key = new_key()
    settings.HAVEN_ENCRYPTION_KEYS = [key]
    return key


def raw_text(message_id: int) -> str:
    """The text column exactly as the database holds it, bypassing the field."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT text FROM chat_message WHERE id = %s", [message_id])
        (value,) = cursor.fetchone()
    return str(value)


def set_raw_text(message_id: int, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE chat_message SET text = %s WHERE id = %s", [value, message_id])


def visitor_says(conversation: Conversation, text: str, client_id: str | None = None) -> Message:
    return services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.VISITOR,
        text=text,
        client_id=client_id or uuid.uuid4().hex,
    )


def bare_message(conversation: Conversation, seq: int, text: str) -> Message:
    return Message.objects.create(
        conversation=conversation,
        seq=seq,
        sender=Message.Sender.VISITOR,
        text=text,
        created_at=clock.now(),
    )


def database_dump() -> str:
    """Every row of every table, as text: what someone with a stolen dump would read.

    Raw ``SELECT *`` per table (works on SQLite and PostgreSQL alike); binary values are
    decoded too, so nothing hides in a bytea column.
    """
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        parts.append(bytes(value).decode("utf-8", "replace"))
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


# --- the crypto module ---------------------------------------------------------------------


def test_round_trip_gives_back_the_text(key_a: str) -> None:
    """Encrypting and decrypting returns the text unchanged, including non-ASCII text; the
    token contains nothing of the text, and the same text encrypts differently each time."""
    for text in ["help", "Ik durf niet naar huis 🏠", "مرحبا", "line one\nline two", " "]:
        token = crypto.encrypt_text(text)
        assert crypto.decrypt_text(token) == text
        assert text.strip() == "" or text not in token
        assert crypto.encrypt_text(text) != token


def test_generated_keys_are_fernet_keys() -> None:
    """``generate_key`` and ``haven generatekey`` give a new, usable Fernet key each time."""
    out = io.StringIO()
    call_command("generatekey", stdout=out)
    printed = out.getvalue().strip()
    for key in (crypto.generate_key(), printed):
        Fernet(key)
    assert printed != crypto.generate_key()


def test_a_value_under_an_unknown_key_gives_a_plain_error(settings, key_a: str) -> None:  # type: ignore[no-untyped-def]
    """Decrypting with the wrong keys raises DecryptionError naming the setting, and the
    message carries neither the token nor a key."""
    token = crypto.encrypt_text("secret words")
    settings.HAVEN_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(crypto.DecryptionError) as error:
        crypto.decrypt_text(token)
    message = str(error.value)
    assert "HAVEN_ENCRYPTION_KEYS" in message
    assert "not in" in message
    assert token not in message and key_a not in message
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text("plain text, never encrypted")
    with pytest.raises(crypto.DecryptionError):
        crypto.rotate_token(token)


def test_a_malformed_key_is_refused_without_showing_it(settings) -> None:  # type: ignore[no-untyped-def]
    """A key that is not a Fernet key stops with ImproperlyConfigured naming its position;
    an empty key list is refused too."""
    settings.HAVEN_ENCRYPTION_KEYS = [new_key(), "not-a-key-at-all"]
    with pytest.raises(ImproperlyConfigured) as error:
        crypto.encrypt_text("x")
    assert "number 2" in str(error.value)
    assert "not-a-key-at-all" not in str(error.value)
    settings.HAVEN_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt_text("x")


# --- the field and the database ------------------------------------------------------------


def test_a_stored_message_is_a_fernet_token_in_the_database(key_a: str) -> None:
    """The column holds a Fernet token under the first key, not the text; the model gives
    the text back. An empty text (system messages) is stored as ""."""
    conversation, _ = services.conversation_start(language="nl")
    text = "Mijn baas houdt mijn paspoort vast"
    message = visitor_says(conversation, text)
    stored = raw_text(message.pk)
    assert text not in stored
    assert "paspoort" not in stored
    assert stored.startswith("gAAAAA")
    assert Fernet(key_a).decrypt(stored.encode()).decode() == text
    assert Message.objects.get(pk=message.pk).text == text
    assert list(Message.objects.values_list("text", flat=True)) == [text]

    services.conversation_end(conversation_id=conversation.id, party="visitor")
    system = Message.objects.get(conversation=conversation, sender=Message.Sender.SYSTEM)
    assert raw_text(system.pk) == ""
    assert system.text == ""


def test_a_database_dump_shows_no_conversation(key_a: str, counsellor) -> None:  # type: ignore[no-untyped-def]
    """A whole conversation, written through the services, appears nowhere in a raw dump of
    every table: not a single message text, nor a distinctive word of one."""
    conversation, _ = services.conversation_start(language="nl")
    visitor_texts = [
        "Ik werk in een nagelsalon in Tilburg en mag niet weg",
        "Ze hebben mijn paspoort afgepakt",
    ]
    for text in visitor_texts:
        visitor_says(conversation, text)
    services.conversation_accept(conversation_id=conversation.id, counsellor=counsellor)
    counsellor_text = "Je bent hier veilig. Ben je nu alleen in de salon?"
    services.message_send(
        conversation_id=conversation.id,
        sender=Message.Sender.COUNSELLOR,
        text=counsellor_text,
        client_id="dump-control-4711",
        author=counsellor,
    )
    visitor_says(conversation, "Ja, tot zes uur vanavond")
    services.conversation_end(conversation_id=conversation.id, party="visitor")

    dump = database_dump()
    # The dump does reach the message rows (the client id is not secret, and is stored).
    assert "dump-control-4711" in dump
    for text in [*visitor_texts, counsellor_text, "Ja, tot zes uur vanavond"]:
        assert text not in dump
    for word in ["nagelsalon", "Tilburg", "paspoort", "veilig", "vanavond"]:
        assert word not in dump


def test_filtering_on_the_text_is_refused(key_a: str) -> None:
    """A filter that would compare ciphertext (and so silently match nothing) raises
    FieldError; only ``text=""`` and ``text__isnull`` are allowed."""
    conversation, _ = services.conversation_start(language="nl")
    visitor_says(conversation, "hello")
    for lookup in ["text", "text__iexact", "text__contains", "text__icontains", "text__in"]:
        value: object = ["hello"] if lookup.endswith("__in") else "hello"
        with pytest.raises(FieldError, match="encrypted"):
            Message.objects.filter(**{lookup: value}).exists()
    assert Message.objects.exclude(text="").count() == 1
    assert Message.objects.filter(text="").count() == 0
    assert Message.objects.filter(text__isnull=False).count() == 1


def test_the_queue_preview_is_plain_text(key_a: str) -> None:
    """The console's queue shows the visitor's latest words decrypted, not a token."""
    conversation, _ = services.conversation_start(language="nl")
    visitor_says(conversation, "Hallo, is daar iemand?")
    visitor_says(conversation, "Ik wil graag  met\niemand praten")
    (entry,) = selectors.waiting_queue()
    assert entry["conversation"] == str(conversation.id)
    assert entry["preview"] == "Ik wil graag met iemand praten"
    assert entry["message_count"] == 2


# --- rotation ------------------------------------------------------------------------------


def test_rotation_moves_every_message_to_the_new_key(settings, key_a: str) -> None:  # type: ignore[no-untyped-def]
    """Messages written under key A, keys changed to [B, A], ``haven rotatekeys``: every
    message then decrypts with B alone. Running it again changes nothing."""
    conversation, _ = services.conversation_start(language="nl")
    texts = [f"bericht nummer {n}" for n in range(1, 6)]
    messages = [visitor_says(conversation, text) for text in texts]
    services.conversation_end(conversation_id=conversation.id, party="visitor")

    key_b = new_key()
    settings.HAVEN_ENCRYPTION_KEYS = [key_b, key_a]
    out = io.StringIO()
    call_command("rotatekeys", "--batch-size", "2", stdout=out)
    output = out.getvalue()
    assert "2 of about 5 messages checked, 2 re-encrypted" in output
    assert "Done: 5 messages" in output and "(5 re-encrypted, 0 already were)" in output

    settings.HAVEN_ENCRYPTION_KEYS = [key_b]
    assert [Message.objects.get(pk=m.pk).text for m in messages] == texts
    for message in messages:
        stored = raw_text(message.pk)
        assert Fernet(key_b).decrypt(stored.encode()).decode() in texts
        with pytest.raises(InvalidToken):
            Fernet(key_a).decrypt(stored.encode())

    before = [raw_text(m.pk) for m in messages]
    out = io.StringIO()
    call_command("rotatekeys", stdout=out)
    assert "(0 re-encrypted, 5 already were)" in out.getvalue()
    assert [raw_text(m.pk) for m in messages] == before


def test_rotation_refuses_a_message_it_cannot_decrypt(settings, key_a: str) -> None:  # type: ignore[no-untyped-def]
    """A message under a key that is not configured stops ``rotatekeys`` with a plain error
    naming the message id; nothing in that batch changes (earlier batches stay done)."""
    conversation, _ = services.conversation_start(language="nl")
    first = [bare_message(conversation, seq, f"onder sleutel A {seq}") for seq in (1, 2)]
    settings.HAVEN_ENCRYPTION_KEYS = [new_key()]  # a key that will be lost
    lost = bare_message(conversation, 3, "onder een verloren sleutel")
    settings.HAVEN_ENCRYPTION_KEYS = [key_a]
    after = bare_message(conversation, 4, "onder sleutel A 4")

    key_b = new_key()
    settings.HAVEN_ENCRYPTION_KEYS = [key_b, key_a]
    untouched = {m.pk: raw_text(m.pk) for m in (lost, after)}
    with pytest.raises(CommandError) as error:
        call_command("rotatekeys", "--batch-size", "2", stdout=io.StringIO())
    assert f"Message {lost.pk} cannot be decrypted" in str(error.value)
    assert "HAVEN_ENCRYPTION_KEYS" in str(error.value)
    assert "verloren" not in str(error.value)
    assert {m.pk: raw_text(m.pk) for m in (lost, after)} == untouched
    for message in first:
        Fernet(key_b).decrypt(raw_text(message.pk).encode())


def test_reading_a_message_under_a_removed_key_names_the_setting(settings, key_a: str) -> None:  # type: ignore[no-untyped-def]
    """Removing a key before rotating makes its messages unreadable, with a clear error."""
    conversation, _ = services.conversation_start(language="nl")
    message = visitor_says(conversation, "hello")
    settings.HAVEN_ENCRYPTION_KEYS = [new_key()]
    with pytest.raises(crypto.DecryptionError, match="HAVEN_ENCRYPTION_KEYS"):
        Message.objects.get(pk=message.pk)


# --- the data migration --------------------------------------------------------------------


def test_the_data_migration_encrypts_plain_text_written_before_it(key_a: str) -> None:
    """Rows holding plain text (as before the migration) are encrypted; rows already holding
    a token the keys open are left alone, as are empty texts; running it twice changes
    nothing more; the reverse step gives the plain text back."""
    conversation, _ = services.conversation_start(language="nl")
    plain_texts = ["Ik ben bang", "gAAAAA lijkt op een token maar is het niet", "x"]
    plain = [bare_message(conversation, seq, "") for seq in (1, 2, 3)]
    for message, text in zip(plain, plain_texts, strict=True):
        set_raw_text(message.pk, text)  # what the column held before encryption
    encrypted = bare_message(conversation, 4, "al versleuteld")
    empty = bare_message(conversation, 5, "")
    token_before = raw_text(encrypted.pk)
    schema_editor = SimpleNamespace(connection=connection)

    migration.encrypt_existing_text(apps, schema_editor)

    for message, text in zip(plain, plain_texts, strict=True):
        stored = raw_text(message.pk)
        assert stored != text and stored.startswith("gAAAAA")
        assert Fernet(key_a).decrypt(stored.encode()).decode() == text
        assert Message.objects.get(pk=message.pk).text == text
    assert raw_text(encrypted.pk) == token_before
    assert raw_text(empty.pk) == ""

    after_first = {m.pk: raw_text(m.pk) for m in Message.objects.all()}
    migration.encrypt_existing_text(apps, schema_editor)
    assert {m.pk: raw_text(m.pk) for m in Message.objects.all()} == after_first

    migration.decrypt_all_text(apps, schema_editor)
    assert [raw_text(m.pk) for m in plain] == plain_texts
    assert raw_text(encrypted.pk) == "al versleuteld"
    assert raw_text(empty.pk) == ""


def test_rotation_covers_every_encrypted_column(settings, key_a: str, counsellor) -> None:  # type: ignore[no-untyped-def]
    """Not only message text: conversation notes, whispers and transfer notes, hold
    reasons, letters and authenticator keys are all moved to the new key, found from the
    models (a new EncryptedTextField is rotated without being listed)."""
    from haven.accounts.models import SealedTOTPDevice
    from haven.chat.models import StaffNote
    from haven.core.fields import EncryptedTextField
    from haven.core.management.commands.rotatekeys import targets

    conversation, _ = services.conversation_start(language="nl")
    conversation.notes = "notitie voor het team"
    conversation.save(update_fields=["notes"])
    others = [services.conversation_start(language="nl")[0] for _ in range(2)]
    for other in others:  # UUID keys, read in batches of one below
        other.notes = "nog een notitie"
        other.save(update_fields=["notes"])
    StaffNote.objects.create(
        conversation=conversation,
        kind="whisper",
        author=counsellor,
        text="fluister",
        created_at=clock.now(),
    )
    SealedTOTPDevice.with_new_key(user=counsellor, name="phone", confirmed=True).save()

    from django.apps import apps as django_apps

    encrypted = {
        (model, field.name)
        for model in django_apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    }
    covered = {(t.model, t.field) for t in targets()}
    assert encrypted | {(SealedTOTPDevice, "sealed_key")} == covered
    assert len(encrypted) >= 5

    key_b = new_key()
    settings.HAVEN_ENCRYPTION_KEYS = [key_b, key_a]
    out = io.StringIO()
    call_command("rotatekeys", "--batch-size", "1", stdout=out)
    assert "3 of about 3 chat.conversation.notes values checked, 3 re-encrypted" in out.getvalue()
    settings.HAVEN_ENCRYPTION_KEYS = [key_b]
    conversation.refresh_from_db()
    assert conversation.notes == "notitie voor het team"
    assert StaffNote.objects.get(conversation=conversation).text == "fluister"
    assert {Conversation.objects.get(pk=o.pk).notes for o in others} == {"nog een notitie"}
    assert len(SealedTOTPDevice.objects.get(user=counsellor).bin_key) == 20
