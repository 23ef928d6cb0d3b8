"""The guess path's three statements and the card page's read, written in SQL once per process.

Recording a guess locks the round and reads its card, then inserts the guess
and adds its points to the round. Through the ORM these cost about 3 ms of CPU
per guess, most of it compiling the same queries again (the locking SELECT
with its round, room and shower: 2.0 ms compiled and run by the ORM, 0.4 ms as
SQL; docs/benchmarks.md, Load). Here each statement is built once from the
models' metadata (table and column names, the database's quoting and its
support for ``FOR UPDATE OF``) and its rows are turned into model instances
with the fields' own converters, so what the callers get is exactly what the
ORM would have given them, on PostgreSQL and on SQLite alike.

The card page reads the same card, round, room and shower, and the card's
guess if it has one, without the lock: through the ORM (select_related and
first()) 2.9 ms of CPU, 2.0 ms of it compiling; 0.2 ms as SQL
(docs/benchmarks.md, stop 24).

All three run on Django's cursor: errors arrive as ``django.db`` errors (a
second guess of a card is an ``IntegrityError``), and the queries are logged
and counted like any other.
"""

from __future__ import annotations

from functools import cache

from django.db import connection

from classify.models import Shower
from rooms.models import Room

from .models import Guess, Round, RoundCard

# The tables of a card's SELECT, in the order of its columns, with their aliases;
# the card page's read adds the card's guess.
_JOINED = ((RoundCard, "c"), (Round, "r"), (Room, "m"), (Shower, "s"))
_JOINED_WITH_GUESS = (*_JOINED, (Guess, "g"))


def _fields(model) -> list:
    return list(model._meta.concrete_fields)


@cache
def _attnames(model) -> tuple[list[str], int]:
    """The attribute names of the model's columns and the position of its primary key."""
    fields = _fields(model)
    return [field.attname for field in fields], fields.index(model._meta.pk)


def _converters(model, alias: str) -> list[tuple[list, object]]:
    """Per column: the database's and the field's converters, as the ORM applies them."""
    result = []
    for field in _fields(model):
        column = field.get_col(alias)
        result.append(
            (connection.ops.get_db_converters(column) + field.get_db_converters(connection), column)
        )
    return result


@cache
def _card_statement(owners: int, *, lock: bool) -> tuple[str, tuple, list]:
    """SELECT card, round, room and shower by round id, owners and position; with
    `lock`, lock the round; without it, add the card's guess (NULLs when unanswered).

    Cached per process, which talks to one database (its dialect decides the SQL)."""
    joined = _JOINED if lock else _JOINED_WITH_GUESS
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(field.column)}" for model, alias in joined for field in _fields(model)
    )

    def table(model) -> str:
        return quote(model._meta.db_table)

    def column(alias: str, model, name: str) -> str:
        return f"{alias}.{quote(model._meta.get_field(name).column)}"

    guess_join = locking = ""
    if not lock:
        guess_join = (
            f" LEFT OUTER JOIN {table(Guess)} g"
            f" ON {column('g', Guess, 'card')} = {column('c', RoundCard, 'id')}"
        )
    elif connection.features.has_select_for_update:
        locking = " FOR UPDATE"
        if connection.features.has_select_for_update_of:
            locking += " OF r"
    sql = (
        f"SELECT {columns} FROM {table(RoundCard)} c"
        f" INNER JOIN {table(Round)} r"
        f" ON {column('r', Round, 'id')} = {column('c', RoundCard, 'round')}"
        f" LEFT OUTER JOIN {table(Room)} m"
        f" ON {column('m', Room, 'id')} = {column('r', Round, 'room')}"
        f" INNER JOIN {table(Shower)} s"
        f" ON {column('s', Shower, 'id')} = {column('c', RoundCard, 'shower')}"
        f"{guess_join}"
        f" WHERE {column('r', Round, 'public_id')} = %s"
        f" AND {column('c', RoundCard, 'position')} = %s"
        f" AND {column('r', Round, 'player')} IN ({', '.join(['%s'] * owners)})"
        f" LIMIT 1{locking}"
    )
    converters = [_converters(model, alias) for model, alias in joined]
    return sql, joined, converters


def _instance(model, converters, values):
    converted = []
    for value, (functions, column) in zip(values, converters, strict=True):
        for function in functions:
            value = function(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, _attnames(model)[0], converted)


def _read(*, public_id: str, position: int, owners: list[int], lock: bool) -> list | None:
    """The instances of one row of `_card_statement`, None for a table the row has none of."""
    sql, joined, converters = _card_statement(len(owners), lock=lock)
    with connection.cursor() as cursor:
        cursor.execute(sql, [public_id, position, *owners])
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for (model, _alias), model_converters in zip(joined, converters, strict=True):
        values = row[start : start + len(model_converters)]
        start += len(model_converters)
        # A round without a room: the LEFT JOIN gives NULL for every column of it.
        has_row = values[_attnames(model)[1]] is not None
        instances.append(_instance(model, model_converters, values) if has_row else None)
    card, game_round, room, shower = instances[:4]
    game_round.room = room
    card.round = game_round
    card.shower = shower
    return instances


def lock_card(*, public_id: str, position: int, owners: list[int]) -> RoundCard | None:
    """The card at `position` of an owner's round, with its round (locked until the
    transaction ends), the round's room (or None) and the card's shower; or None."""
    if not owners:
        return None
    instances = _read(public_id=public_id, position=position, owners=owners, lock=True)
    return instances[0] if instances else None


def read_card(*, public_id: str, position: int, owners: list[int]) -> RoundCard | None:
    """The card at `position` of an owner's round, with its round, the round's room,
    its shower and its guess, as `select_related` gives them (`card.guess` raises
    Guess.DoesNotExist for an unanswered card); or None. Nothing is locked."""
    if not owners:
        return None
    instances = _read(public_id=public_id, position=position, owners=owners, lock=False)
    if instances is None:
        return None
    card, guess = instances[0], instances[4]
    RoundCard.guess.related.set_cached_value(card, guess)
    if guess is not None:
        Guess.card.field.set_cached_value(guess, card)
    return card


@cache
def _insert_statement() -> tuple[str, list, bool]:
    quote = connection.ops.quote_name
    fields = [field for field in _fields(Guess) if not field.primary_key]
    returning = connection.features.can_return_columns_from_insert
    sql = (
        f"INSERT INTO {quote(Guess._meta.db_table)}"
        f" ({', '.join(quote(field.column) for field in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))})"
        + (f" RETURNING {quote(Guess._meta.pk.column)}" if returning else "")
    )
    return sql, fields, returning


def insert_guess(guess: Guess) -> Guess:
    """INSERT the new guess (its `created` set now) and give it its id."""
    sql, fields, returning = _insert_statement()
    params = [
        field.get_db_prep_save(field.pre_save(guess, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning:
            guess.pk = cursor.fetchone()[0]
        else:
            guess.pk = connection.ops.last_insert_id(
                cursor, Guess._meta.db_table, Guess._meta.pk.column
            )
    guess._state.adding = False
    guess._state.db = connection.alias
    return guess


@cache
def _round_update_statement() -> str:
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(Round._meta.get_field(name).column)

    def add(name: str) -> str:
        return f"{column(name)} = {column(name)} + %s"

    return (
        f"UPDATE {quote(Round._meta.db_table)} SET {add('points')}, {add('correct')},"
        f" {add('answered')}, {column('streak')} = %s, {column('best_streak')} = %s,"
        f" {column('finished')} = %s WHERE {column('id')} = %s"
    )


def add_to_round(*, game_round: Round, points: int, correct: int) -> None:
    """Add one answered card to the (locked) round's row: increments, so the row
    stays right even if a caller's copy of it were stale."""
    finished = Round._meta.get_field("finished").get_db_prep_save(game_round.finished, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            _round_update_statement(),
            [
                points,
                correct,
                1,
                game_round.streak,
                game_round.best_streak,
                finished,
                game_round.pk,
            ],
        )
