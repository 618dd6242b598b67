"""An estimate as text for people. Plain Python, no Django.

The caller passes ``translate`` (Django's ``gettext`` in the command and the analyst page)
and ``number`` (how to write a whole number: Django's localised ``number_format`` there),
so this module needs no Django and the same words serve the command line, the page and the
yearly report.
"""

from __future__ import annotations

from collections.abc import Callable

from haven.estimation.messages import Message, Translate, gettext_noop, untranslated
from haven.estimation.mse import Estimate, Interval, ModelEstimate
from haven.estimation.selection import AIC, BIC, STEPWISE
from haven.estimation.table import Problem

_ = gettext_noop

Number = Callable[[float], str]

METHOD_NAMES = {
    STEPWISE: _("stepwise (SparseMSE)"),
    AIC: _("AIC"),
    BIC: _("BIC"),
}
SEARCH_NAMES = {
    STEPWISE: _("forward stepwise"),
    "exhaustive": _("every model tried"),
    "greedy": _("greedy search"),
    "restricted": _("among given models"),
}


def whole_number(value: float) -> str:
    """English grouping: 11,313."""
    return f"{round(value):,}"


def interval_text(interval: Interval, translate: Translate, number: Number) -> str:
    return translate(_("%(lower)s to %(upper)s")) % {
        "lower": number(interval.lower),
        "upper": number(interval.upper),
    }


def percent(level: float) -> int:
    return round(level * 100)


def model_line(choice: ModelEstimate, translate: Translate, number: Number) -> str:
    return translate(_("%(method)s: %(total)s (%(level)s%% interval %(interval)s); %(model)s")) % {
        "method": translate(METHOD_NAMES[choice.method]),
        "total": number(choice.total),
        "level": percent(choice.interval.level),
        "interval": interval_text(choice.interval, translate, number),
        "model": choice.words.render(translate),
    }


def chosen_by(result: Estimate, translate: Translate = untranslated) -> str:
    """How the model was chosen, in words: the stepwise threshold, or the criterion and
    how the models were searched."""
    t = translate
    model = result.model
    if model.method == STEPWISE:
        return t(_("stepwise (SparseMSE, threshold p = %(threshold)s)")) % {
            "threshold": f"{result.threshold:g}"
        }
    return t(_("lowest %(criterion)s (%(search)s)")) % {
        "criterion": t(METHOD_NAMES[model.method]),
        "search": t(SEARCH_NAMES[model.search]),
    }


def render_text(
    result: Estimate, translate: Translate = untranslated, number: Number = whole_number
) -> str:
    """The estimate, the model, the intervals, the other methods and the warnings."""
    t = translate
    lines: list[str] = []
    lines.append(
        t(_("Multiple systems estimation: %(count)s lists (%(lists)s), %(seen)s people seen."))
        % {
            "count": len(result.lists),
            "lists": ", ".join(result.lists),
            "seen": number(result.observed),
        }
    )
    lines.append("")
    level = percent(result.level)
    lines.append(t(_("Estimated total: %(total)s")) % {"total": number(result.total)})
    lines.append(t(_("Unseen: %(unseen)s")) % {"unseen": number(result.unseen)})
    lines.append(
        t(_("Seen: %(seen)s, %(share)s%% of the total: %(sentence)s."))
        % {
            "seen": number(result.observed),
            "share": round(100 * result.share_seen),
            "sentence": result.seen_sentence.render(t),
        }
    )
    model = result.model
    lines.append(
        t(_("Model, chosen by %(method)s: %(model)s")) % {
            "method": chosen_by(result, t),
            "model": model.words.render(t),
        }
    )  # fmt: skip
    lines.append(
        t(_("%(level)s%% interval from the model: %(interval)s"))
        % {"level": level, "interval": interval_text(model.interval, t, number)}
    )
    summary = result.bootstrap
    if summary is not None:
        if summary.interval is not None:
            lines.append(
                t(_("%(level)s%% BCa bootstrap interval: %(interval)s (%(replications)s replicates, seed %(seed)s)"))  # noqa: E501
                % {
                    "level": level,
                    "interval": interval_text(summary.interval, t, number),
                    "replications": summary.replications,
                    "seed": summary.seed,
                }
            )  # fmt: skip
        else:
            lines.append(t(_("BCa bootstrap interval: could not be computed")))
    if len(result.comparison) > 1:
        lines.append("")
        lines.append(t(_("Other ways of choosing the model, side by side:")))
        for choice in result.comparison:
            lines.append("  " + model_line(choice, t, number))
    if result.warnings:
        lines.append("")
        lines.append(t(_("Warnings:")))
        for warning in result.warnings:
            lines.append("  - " + warning.render(t))
    return "\n".join(lines) + "\n"


def render_refusal(message: Message, translate: Translate = untranslated) -> str:
    return translate(_("No estimate: %(reason)s")) % {"reason": message.render(translate)}


def render_problem(problem: Problem, translate: Translate = untranslated) -> str:
    """One table problem with where it is: "line 3, column GO: ..."."""
    message = problem.message.render(translate)
    if problem.line == 0:
        return translate(_("File: %(message)s")) % {"message": message}
    if problem.column:
        return translate(_("Line %(line)s, column %(column)s: %(message)s")) % {
            "line": problem.line,
            "column": problem.column,
            "message": message,
        }
    return translate(_("Line %(line)s: %(message)s")) % {"line": problem.line, "message": message}
