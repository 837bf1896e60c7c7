"""A small Flask-SQLAlchemy app of its own (a library), for `kura inspect` tests.

    python3 library_app.py DB      sa.create_all() on a new SQLite file, and one row each

Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy).
"""
import sys
from datetime import datetime

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + sys.argv[1]
db = SQLAlchemy(app)


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


class Review(db.Model):
    """Only created_at: an ordinary (indexed) datetime field of a model without timestamps."""
    id = db.Column(db.Integer, primary_key=True)
    stars = db.Column(db.Integer, nullable=False)
    created_at = db.Column(db.DateTime, default=datetime.utcnow, index=True)


class Shelf(db.Model):
    """Keyed by its code: kura cannot serve it."""
    code = db.Column(db.String(10), primary_key=True)
    room = db.Column(db.String(40))


with app.app_context():
    db.create_all()
    db.session.add(Author(name="Ursula", email="ursula@example.com", country="US"))
    db.session.add(Book(title="A Wizard of Earthsea", isbn="9780553383041", copies=3))
    db.session.add(Review(stars=5, created_at=datetime(2024, 5, 6, 7, 8, 9, 123456)))
    db.session.commit()
