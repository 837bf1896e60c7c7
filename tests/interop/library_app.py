"""A small Flask-SQLAlchemy app of its own (a library), for `kura inspect` tests.

    python3 library_app.py DB        sa.create_all() on a new SQLite file, and one row each
    python3 library_app.py DB read   prints the rows of the keyed tables and the book's new
                                     columns as this app reads them (after kura wrote some)

Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy).
"""
import sys
import uuid
from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + sys.argv[1]
db = SQLAlchemy(app)


class UUIDText(db.TypeDecorator):
    """A UUID kept as its 36-character text (SQLAlchemy 1.4 has no generic Uuid type)."""
    impl = db.String(36)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(value)

    def process_result_value(self, value, dialect):
        return None if value is None else uuid.UUID(value)


class Stamped(db.Model):
    """kura's base columns, as the guide's Base declares them."""
    __abstract__ = True
    id = db.Column(db.Integer, primary_key=True)
    created_at = db.Column(db.DateTime, default=datetime.utcnow)
    updated_at = db.Column(db.DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)


class Author(Stamped):
    name = db.Column(db.String(80), nullable=False)
    email = db.Column(db.String(120), unique=True, nullable=False)
    born = db.Column(db.DateTime)
    rating = db.Column(db.Float, server_default="2.5")
    active = db.Column(db.Boolean, nullable=False, server_default="1")
    country = db.Column(db.String(2), index=True)
    __table_args__ = (db.Index("ix_author_name_country", "name", "country"),)


class Book(db.Model):
    """A plain model: no created_at / updated_at."""
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    isbn = db.Column(db.String(13), index=True, unique=True)
    pages = db.Column(db.Integer, server_default="100")
    copies = db.Column(db.BigInteger)
    summary = db.Column(db.Text, server_default="it's short")
    cover = db.Column(db.LargeBinary)
    price = db.Column(db.Numeric(8, 2))
    published = db.Column(db.Date)
    extra = db.Column(db.JSON)
    token = db.Column(UUIDText)


class Review(db.Model):
    """Only created_at: an ordinary (indexed) datetime field of a model without timestamps."""
    id = db.Column(db.Integer, primary_key=True)
    stars = db.Column(db.Integer, nullable=False)
    created_at = db.Column(db.DateTime, default=datetime.utcnow, index=True)


class Loan(db.Model):
    """Keyed by a UUID made in Python: a uuid key."""
    id = db.Column(UUIDText, primary_key=True, default=uuid.uuid4)
    due = db.Column(db.Date, nullable=False)


class Genre(db.Model):
    """Keyed by a name: a string key."""
    id = db.Column(db.String(40), primary_key=True)
    about = db.Column(db.Text)


class Visit(db.Model):
    """Keyed by ObjectId-shaped hex (what a MongoEngine app carried over keeps): an objectid key."""
    id = db.Column(db.String(24), primary_key=True)
    hours = db.Column(db.Numeric(4, 1))


class Shelf(db.Model):
    """Keyed by its code: kura cannot serve it."""
    code = db.Column(db.String(10), primary_key=True)
    room = db.Column(db.String(40))


def read():
    """One line per row, in key order, as SQLAlchemy's types read the values back."""
    for loan in Loan.query.order_by(Loan.due).all():
        print("loan", loan.id, loan.due.isoformat())
    for genre in Genre.query.order_by(Genre.id).all():
        print("genre", genre.id, genre.about)
    for visit in Visit.query.order_by(Visit.id).all():
        print("visit", visit.id, visit.hours)
    for book in Book.query.order_by(Book.id).all():
        print("book", book.id, book.price, book.published, sorted((book.extra or {}).items()),
              book.token)


with app.app_context():
    if sys.argv[2:] == ["read"]:
        read()
        sys.exit(0)
    db.create_all()
    db.session.add(Author(name="Ursula", email="ursula@example.com", country="US"))
    db.session.add(Book(title="A Wizard of Earthsea", isbn="9780553383041", copies=3,
                        price=Decimal("12.50"), published=date(1968, 11, 1),
                        extra={"series": "Earthsea", "volumes": [1, 2]},
                        token=uuid.UUID("0189e1c2-7f3a-7b4c-9d5e-6f708192a3b4")))
    db.session.add(Loan(id=uuid.UUID("0189e1c2-7f3a-7b4c-9d5e-000000000001"), due=date(2024, 6, 1)))
    db.session.add(Genre(id="fantasy", about="dragons"))
    db.session.add(Visit(id="6750a1c2e4b0c3d2a1f00001", hours=Decimal("2.5")))
    db.session.add(Review(stars=5, created_at=datetime(2024, 5, 6, 7, 8, 9, 123456)))
    db.session.commit()
