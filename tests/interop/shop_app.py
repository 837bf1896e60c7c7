"""A Flask-SQLAlchemy app's models on PostgreSQL (a shop), for `kura inspect` tests.

    python3 shop_app.py       prints the PostgreSQL DDL of the models (CREATE TABLE and
                              CREATE INDEX, one statement a line, each ending in ";")

SQLAlchemy compiles the DDL for its postgresql dialect without connecting, so no
PostgreSQL driver for Python is needed: the test runs the statements through libpq
and adds the rows. The columns are the PostgreSQL types of kura's newer field types
(UUID, NUMERIC(p,s), DATE, JSONB, JSON) and the three text key kinds.

Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy).
"""
import uuid

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"  # never used: DDL only
db = SQLAlchemy(app)


class Gadget(db.Model):
    """Keyed by a UUID (what PostgreSQL apps use): a uuid key."""
    __tablename__ = "shop_gadget"
    id = db.Column(postgresql.UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    price = db.Column(db.Numeric(12, 2), nullable=False, server_default="0")
    made = db.Column(db.Date, server_default=text("CURRENT_DATE"))
    spec = db.Column(postgresql.JSONB)
    notes = db.Column(db.JSON)
    serial = db.Column(postgresql.UUID(as_uuid=True), unique=True)
    weight = db.Column(db.Numeric)  # no precision: kura's decimal needs one


class Label(db.Model):
    """Keyed by a name: a string key."""
    __tablename__ = "shop_label"
    id = db.Column(db.String(40), primary_key=True)
    color = db.Column(db.String(7), server_default="#ffffff")


class Trip(db.Model):
    """Keyed by ObjectId-shaped hex: an objectid key; owner is kura's own objectid column."""
    __tablename__ = "shop_trip"
    id = db.Column(db.String(24), primary_key=True)
    day = db.Column(db.Date, index=True)
    owner = db.Column(db.CHAR(24))


dialect = postgresql.dialect()
for table in db.metadata.sorted_tables:
    print(" ".join(str(CreateTable(table).compile(dialect=dialect)).split()) + ";")
    for index in table.indexes:
        print(str(CreateIndex(index).compile(dialect=dialect)) + ";")
