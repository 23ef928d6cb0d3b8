"""The reveal of a guess and the round bar, formatted in Python.

They are the answer to every guess. Rendered by Django's template language (two
includes, a dozen translation tags, twenty variables) they were 1.1-1.4 ms of a
guess's 4.8 ms of CPU, the largest part of the request (docs/benchmarks.md,
stop 25). Here the phrases that never change are translated and escaped once per
process and language, and only a guess's own values are put in.

Both the htmx answer to a guess and the card page of an answered card use these
functions, so a reveal looks the same whichever way it is reached. The msgids
are those the templates used, so every translation still applies.
"""

from __future__ import annotations

from functools import cache

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from classify.hadronic_models import HADRONIC_MODELS

from .explain import group_name


@cache
def probability_row(group: str, percent: int) -> str:
    """A row of a forest's probability table in the reveal, formatted once per process.

    There are 5 × 101 of them. Rendered by the template, the fifteen rows of a
    reveal were 0.7-0.9 ms of its 2.0-2.3 ms (docs/benchmarks.md, Load). The number
    and its % never part: "22" over "%" in a narrow column was hard to read."""
    return format_html(
        '<tr><th scope="row">{0}</th><td><meter min="0" max="100" value="{1}"'
        ' aria-label="{0}">{1}&nbsp;%</meter></td><td class="num">{1}&nbsp;%</td></tr>',
        group,
        percent,  # format_html gives an int's digits, never localized
    )


@cache
def forest_item(key: str, prediction: str, is_right: bool, language: str) -> str:
    """A forest's item of the reveal in the active `language` up to its probability
    rows (the caller closes it): formatted once per process (3 forests x 6 answers x right or
    wrong per language). Rendered by the template's loop, with four translations
    each, the three items were 0.7-0.8 ms of a guess's 6.2-6.5 ms of CPU
    (docs/benchmarks.md, stop 24)."""
    model = HADRONIC_MODELS[key].label
    if is_right:
        state, mark, verdict = "right", "✔", _("right")
    else:
        state, mark, verdict = "wrong", "✘", _("wrong")
    says = _("says <strong>%(label)s (%(symbol)s)</strong>") % {
        "label": escape(group_name(prediction)),
        "symbol": escape(prediction),
    }
    return format_html(
        '<li class="forest {}" data-model="{}" data-prediction="{}"><h3>{}</h3><p>{} {}'
        '<span class="visually-hidden"> {}</span></p><table class="prob-table">'
        '<caption class="visually-hidden">{}</caption><tbody>',
        state,
        key,
        prediction,
        _("%(model)s forest") % {"model": model},
        mark_safe(says),  # the msgid's markup, with its values escaped above
        mark,
        verdict,
        _("Probabilities the %(model)s forest gave each group") % {"model": model},
    )


@cache
def _phrases(language: str) -> dict[str, str]:
    """The fixed phrases of the reveal and the round bar in the active `language`,
    escaped for HTML (text and attribute values alike)."""
    return {
        key: escape(text)
        for key, text in {
            "right": _("Right!"),
            "not_quite": _("Not quite."),
            "it_was": _("It was"),
            "late": _(
                "Time was up for this card: your answer counts for your accuracy, "
                "but earns no points."
            ),
            "beat": _("you beat the machine!"),
            "next": _("Next shower"),
            "no_answer": _("No answer from the server. Press again."),
            "result": _("See your result"),
            "answered": _("Cards answered"),
            "score": _("Score"),
            "time_up": _("0 — time is up"),
            "seconds": pgettext("seconds", "s"),
            "in_a_row": _("right answers in a row"),
        }.items()
    }


def _in_a_row(streak: int) -> str:
    return ngettext("%(streak)s in a row", "%(streak)s in a row", streak) % {"streak": streak}


def reveal_html(
    *, guess, forest_items: str, sentence: str, next_url: str | None, summary_url: str
) -> SafeString:
    """The reveal of `guess` (its truth, choice, points, streak; a Guess or alike):
    the verdict, the points, the forests' items (`forest_items`, safe HTML), one
    sentence of physics and the way on (the next card, or the round's summary)."""
    words = _phrases(get_language() or "")
    truth, choice = escape(guess.truth), escape(guess.choice)
    if guess.is_correct:
        verdict, state, you_said = f"✔ {words['right']}", "right", ""
    else:
        verdict, state = f"✘ {words['not_quite']}", "wrong"
        you_said = "; " + _("you said %(label)s (%(symbol)s)") % {
            "label": escape(group_name(guess.choice)),
            "symbol": choice,
        }
    points = ngettext("+%(points)s point", "+%(points)s points", guess.points) % {
        "points": guess.points
    }
    if guess.beat_the_machine:
        points += f" — <strong>{words['beat']}</strong>"
    if guess.streak > 1:
        points += f" — {_in_a_row(guess.streak)}"
    late = f'\n  <p class="late-note" data-late>{words["late"]}</p>' if guess.late else ""
    if next_url:
        url = escape(next_url)
        way_on = (
            f'<a class="button primary big" href="{url}" hx-get="{url}" hx-target="#play-area"'
            f' hx-push-url="true" hx-request=\'{{"timeout": 15000}}\' data-next autofocus>'
            f"{words['next']} <kbd>Enter</kbd></a>\n"
            f'    <span class="next-feedback" aria-live="assertive"'
            f' data-no-answer="{words["no_answer"]}"></span>'
        )
    else:
        way_on = (
            f'<a class="button primary big" href="{escape(summary_url)}" data-next autofocus>'
            f"{words['result']} <kbd>Enter</kbd></a>"
        )
    return mark_safe(
        '<section class="reveal" data-reveal aria-live="polite" aria-labelledby="reveal-title">\n'
        f'  <h2 id="reveal-title" class="reveal-title {state}">\n'
        f"    {verdict}\n"
        f'    {words["it_was"]} <strong data-truth="{truth}">{escape(group_name(guess.truth))}'
        f" ({truth})</strong>{you_said}.\n"
        f"  </h2>{late}\n"
        f'  <p class="points">{points}</p>\n'
        f'  <ul class="forests">\n    {forest_items}\n  </ul>\n'
        f'  <p class="sentence">{escape(sentence)}</p>\n'
        f'  <p class="next">\n    {way_on}\n  </p>\n'
        "</section>\n"
    )


def round_bar_html(
    *, game_round, position: int, remaining: int | None = None, oob: bool = False
) -> SafeString:
    """The round bar: which card of how many (`position`, from 1), the cards answered,
    the score, the timer of a timed room's unanswered card (`remaining` seconds) and
    the streak. `oob` swaps it in out of band, beside an htmx reveal."""
    words = _phrases(get_language() or "")
    size, answered = int(game_round.size), int(game_round.answered)
    points, streak = int(game_round.points), int(game_round.streak)
    swap = ' hx-swap-oob="true"' if oob else ""
    which = _("Shower <strong>%(position)s</strong> of %(size)s") % {
        "position": int(position),
        "size": size,
    }
    done = _("%(answered)s of %(size)s") % {"answered": answered, "size": size}
    parts = [
        f'<div class="round-bar" id="round-bar"{swap}>\n'
        f'  <span class="progress-text">{which}</span>\n'
        f'  <progress max="{size}" value="{answered}" aria-label="{words["answered"]}">'
        f"{done}</progress>\n"
        f'  <span class="score">{words["score"]} <strong data-score="{points}" id="score">'
        f"{points}</strong></span>\n"
    ]
    if remaining is not None:
        seconds = int(remaining)
        parts.append(
            f'  <span class="timer" data-timer data-remaining="{seconds}"'
            f' data-expired-text="{words["time_up"]}" role="timer" aria-live="off">'
            f"⏱ <strong>{seconds}</strong> {words['seconds']}</span>\n"
        )
    if streak > 1:
        parts.append(
            f'  <span class="streak" title="{words["in_a_row"]}">🔥 {_in_a_row(streak)}</span>\n'
        )
    parts.append("</div>\n")
    return mark_safe("".join(parts))
