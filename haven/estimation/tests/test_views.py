"""The estimates page: who may open it, a table uploaded or typed, bad lines and refusals
shown, the result page, the JSON download and deleting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from haven.audit.models import AuditEntry
from haven.conftest import sign_in_fully
from haven.estimation import services
from haven.estimation.models import SavedEstimate

pytestmark = pytest.mark.django_db

KOREA = (Path(__file__).parent / "data" / "korea_3lists.csv").read_text()
LIST_URL = "/en/console/estimates/"
X = "\N{MULTIPLICATION SIGN}"


def signed_in(user: Any) -> Client:
    client = Client()
    sign_in_fully(client, user)
    return client


def detail_url(saved: SavedEstimate, lang: str = "en") -> str:
    prefix = "" if lang == "nl" else f"/{lang}"
    return f"{prefix}/console/estimates/{saved.id}/"


def form(**changes: Any) -> dict[str, Any]:
    return {
        "title": "Korea, synthetic test",
        "year": "2020",
        "table_text": "",
        "method": "stepwise",
        "bootstrap": "0",
        "seed": "1234",
        **changes,
    }


@pytest.fixture
def analyst(make_staff, clock):  # type: ignore[no-untyped-def]
    return make_staff("ana", "analyst")


@pytest.fixture
def client(analyst: Any) -> Client:
    return signed_in(analyst)


def saved_estimate(actor: Any, **changes: Any) -> SavedEstimate:
    arguments: dict[str, Any] = {
        "title": "Korea, synthetic test",
        "year": 2020,
        "table_csv": KOREA,
        "method": "stepwise",
        "bootstrap": 0,
        "seed": 1234,
        **changes,
    }
    return services.estimate_create(actor=actor, **arguments)


# --- who may ----------------------------------------------------------------------------------


def test_an_analyst_sees_the_page_with_the_form_and_an_example(client: Client) -> None:
    response = client.get(LIST_URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "New estimate" in page
    assert 'name="table_file"' in page
    assert 'name="table_text"' in page
    assert "b,c,d,count\n0,0,1,41" in page  # the example of the format
    assert 'value="1000"' in page  # the default replications
    assert "may take a minute" in page
    assert "No estimates saved yet." in page
    # The method and its limits are on the page itself (a browser cannot open the docs).
    assert 'id="method"' in page and "usually make the estimate too low" in page


def test_the_page_is_in_dutch_by_default(client: Client) -> None:
    page = client.get("/console/estimates/").content.decode()
    assert 'lang="nl"' in page
    assert ">Cijfers</a>" in page  # the header, as on the figures page


@pytest.mark.parametrize("role", ["counsellor", "supervisor", "administrator"])
def test_other_roles_get_not_found_everywhere(make_staff: Any, analyst: Any, role: str) -> None:
    """Staff without the figures role learn nothing: not the list, not an estimate, and
    they cannot create or delete one."""
    saved = saved_estimate(analyst)
    client = signed_in(make_staff("someone", role))
    assert client.get(LIST_URL).status_code == 404
    assert client.post(LIST_URL, form(table_text=KOREA)).status_code == 404
    assert client.get(detail_url(saved)).status_code == 404
    assert client.get(detail_url(saved) + "?format=json").status_code == 404
    assert client.post(detail_url(saved) + "delete/").status_code == 404
    assert SavedEstimate.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(analyst: Any) -> None:
    saved = saved_estimate(analyst)
    client = Client()
    for response in (
        client.get(LIST_URL),
        client.get(detail_url(saved)),
        client.post(detail_url(saved) + "delete/"),
    ):
        assert response.status_code == 302
        assert "/console/login/" in response["Location"]
    assert SavedEstimate.objects.count() == 1


# --- creating -------------------------------------------------------------------------------


def test_an_uploaded_table_is_estimated_saved_and_shown(client: Client) -> None:
    upload = SimpleUploadedFile("korea.csv", KOREA.encode(), content_type="text/csv")
    response = client.post(LIST_URL, {**form(), "table_file": upload})
    saved = SavedEstimate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(saved)
    assert round(saved.estimate.total, 2) == 268.78
    assert saved.year == 2020
    page = client.get(response["Location"]).content.decode()
    assert "The estimate was saved." in page
    assert '<strong data-figure="total">269</strong>' in page


def test_a_typed_table_is_estimated_and_saved(client: Client) -> None:
    """Pasted or typed into the page, with semicolons as a Dutch spreadsheet writes them."""
    typed = KOREA.replace(",", ";").replace("\n", "\r\n")
    response = client.post(LIST_URL, form(table_text=typed, year="", method="bic"))
    assert response.status_code == 302
    saved = SavedEstimate.objects.get()
    assert saved.year is None
    assert saved.method == "bic"
    assert round(saved.estimate.total) == 157


def test_every_bad_line_is_shown_with_its_line_and_column(client: Client) -> None:
    """Nothing is saved; every problem is listed; what was typed stays in the form."""
    typed = "b,c,count\n1,0,5\n1,2,3\n0,1,-4\n0,0,9\n"
    response = client.post(LIST_URL, form(table_text=typed))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The table cannot be used" in page
    assert "The table has 3 problems." in page
    assert "Line 3, column c:" in page
    assert "Line 4, column count:" in page
    assert "Line 5:" in page
    assert "1,2,3\n0,1,-4" in page  # kept in the textarea
    assert not SavedEstimate.objects.exists()


def test_bad_lines_are_worded_in_dutch_on_the_dutch_page(client: Client) -> None:
    page = client.post("/console/estimates/", form(table_text="b,c,count\n1,2,3\n")).content
    assert "Regel 2, kolom c:" in page.decode()


def test_a_table_no_model_fits_is_refused_with_the_plain_reason(client: Client) -> None:
    response = client.post(LIST_URL, form(table_text="a,b,count\n1,0,5\n0,1,7\n"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "No model can be used on this table" in page
    assert "No estimate: The two lists have nobody in common" in page
    assert not SavedEstimate.objects.exists()


def test_the_table_must_be_given_once(client: Client) -> None:
    missing = client.post(LIST_URL, form()).content.decode()
    assert "Upload the table as a CSV file, or paste or type it below." in missing
    upload = SimpleUploadedFile("korea.csv", KOREA.encode(), content_type="text/csv")
    both = client.post(LIST_URL, {**form(table_text=KOREA), "table_file": upload})
    assert "Give the table once" in both.content.decode()
    assert not SavedEstimate.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("bootstrap", "1001"), ("bootstrap", "-1"), ("year", "2027"), ("year", "1999"), ("title", "")],
)
def test_settings_out_of_range_are_shown_on_the_form(
    client: Client, field: str, value: str
) -> None:
    response = client.post(LIST_URL, form(table_text=KOREA, **{field: value}))
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert not SavedEstimate.objects.exists()


# --- the result -----------------------------------------------------------------------------


def test_the_result_page_shows_figures_model_comparison_warnings_and_table(
    client: Client, analyst: Any
) -> None:
    saved = saved_estimate(analyst, bootstrap=30)
    page = client.get(detail_url(saved)).content.decode()
    assert "Korea, synthetic test" in page
    assert '<strong data-figure="total">269</strong>' in page
    assert '<dd data-figure="unseen">146</dd>' in page
    assert "123, 46% of the total" in page
    assert "About one in 2 victims is seen." in page
    assert f"stepwise (SparseMSE, threshold p = 0.02): main effects plus b{X}c" in page
    assert "95% interval from the model: 203 to 390" in page
    assert "95% BCa bootstrap interval:" in page
    assert "(30 replicates, seed 1234)" in page
    # AIC and BIC side by side with the stepwise choice.
    assert f"main effects plus b{X}c and c{X}d" in page
    assert page.count("<tr") >= 4 + 7  # comparison rows and the capture patterns
    assert "The ways of choosing a model disagree" in page
    assert "Shown in the yearly report of 2020." in page
    assert "b: 77 people" in page


def test_the_result_page_in_dutch_uses_dutch_words_and_numbers(
    client: Client, analyst: Any
) -> None:
    saved = saved_estimate(
        analyst, table_csv=(Path(__file__).parent / "data" / "uk_2013_5lists.csv").read_text()
    )
    page = client.get(detail_url(saved, "nl")).content.decode()
    assert '<strong data-figure="total">11.313</strong>' in page
    assert "Ongeveer één op de 4 slachtoffers wordt gezien." in page
    assert "hoofdeffecten plus" in page


def test_an_older_estimate_of_a_year_says_a_newer_one_is_shown(
    client: Client, analyst: Any, clock: Any
) -> None:
    older = saved_estimate(analyst, title="older")
    clock.advance(minutes=5)
    saved_estimate(analyst, title="newer")
    page = client.get(detail_url(older)).content.decode()
    assert "the report of 2020 shows a newer estimate" in page
    listing = client.get(LIST_URL).content.decode()
    assert listing.index("newer") < listing.index("older")
    assert "shown in 2020" in listing
    assert "2020, replaced by a newer one" in listing


def test_the_json_download_is_the_result_and_what_was_saved(client: Client, analyst: Any) -> None:
    saved = saved_estimate(analyst)
    response = client.get(detail_url(saved) + "?format=json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == (
        f'attachment; filename="haven-estimate-{saved.id}.json"'
    )
    data = json.loads(response.content)
    assert data["format"] == "haven-mse"
    assert round(data["total"], 2) == 268.78
    assert data["saved"]["title"] == "Korea, synthetic test"
    assert data["saved"]["year"] == 2020
    assert AuditEntry.objects.filter(action="estimate.export").count() == 1


def test_a_missing_estimate_is_not_found(client: Client) -> None:
    response = client.get("/en/console/estimates/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404


# --- deleting -------------------------------------------------------------------------------


def test_an_analyst_deletes_an_estimate(client: Client, analyst: Any) -> None:
    saved = saved_estimate(analyst)
    response = client.post(detail_url(saved) + "delete/")
    assert response.status_code == 302
    assert response["Location"] == LIST_URL
    assert not SavedEstimate.objects.exists()
    assert AuditEntry.objects.filter(action="estimate.delete").count() == 1
    assert "The estimate was deleted." in client.get(LIST_URL).content.decode()
    assert client.get(detail_url(saved)).status_code == 404


def test_delete_needs_a_post(client: Client, analyst: Any) -> None:
    saved = saved_estimate(analyst)
    assert client.get(detail_url(saved) + "delete/").status_code == 405
    assert SavedEstimate.objects.exists()


# --- what a web request may take ------------------------------------------------------------


def table_of(lists: int) -> str:
    """A synthetic table: every pattern of ``lists`` lists, 3 people each."""
    names = [f"L{i}" for i in range(lists)]
    rows = [",".join([*names, "count"])]
    for pattern in range(1, 2**lists):
        rows.append(",".join([*(str(pattern >> i & 1) for i in range(lists)), "3"]))
    return "\n".join(rows) + "\n"


def test_more_lists_than_the_page_takes_are_refused_before_any_work(client: Client) -> None:
    """Eleven lists: the page says to use the command line, and saves nothing."""
    response = client.post(LIST_URL, form(table_text=table_of(11)))
    assert response.status_code == 200
    assert "haven estimate" in response.content.decode()
    assert not SavedEstimate.objects.exists()


def test_the_bootstrap_is_limited_as_lists_are_added(client: Client) -> None:
    """Five lists allow the full 1,000 replications; each list more halves the limit, and
    the form says so at the bootstrap field."""
    assert services.bootstrap_limit(3) == services.bootstrap_limit(5) == 1000
    assert services.bootstrap_limit(8) == 125
    assert services.bootstrap_limit(10) == 31
    response = client.post(LIST_URL, form(table_text=table_of(8), bootstrap="200"))
    assert response.status_code == 200
    assert "at most 125 bootstrap replications" in response.content.decode()
    assert not SavedEstimate.objects.exists()
