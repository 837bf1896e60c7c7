"""The guide's app (docs/BENCHMARKS.md, model-layer-guide): SAUser with
Flask-SQLAlchemy on SQLite, the Session on Redis through redis-py, and the two
routes kura serve answers, with the same JSON.

Run by gunicorn (bench/flask/http.sh) or imported by bench/flask/ops.py.
Environment: FLASK_BENCH_DB (the SQLite file), FLASK_BENCH_REDIS (a redis:// URL).
"""
import os
from datetime import datetime

from flask import Flask, abort, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from redis import Redis

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ.get(
    "FLASK_BENCH_DB", "/tmp/flask-bench.db")
app.config["SQLALCHEMY_TRACK_MODIFICATIONS"] = False
app.json.sort_keys = False  # kura answers in field order
sa = SQLAlchemy(app)
app.redis = Redis.from_url(os.environ.get("FLASK_BENCH_REDIS", "redis://127.0.0.1:6379/0"))

LIMIT = 100  # kura serve's default page


class Base(sa.Model):
    __abstract__ = True
    created_at = sa.Column(sa.DateTime)
    updated_at = sa.Column(sa.DateTime)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.created_at = datetime.utcnow()
        self.updated_at = self.created_at


class SAUser(Base):
    __tablename__ = "sa_user"
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(128))
    email = sa.Column(sa.String(128))
    age = sa.Column(sa.Integer, index=True)
    sex = sa.Column(sa.String(1))

    @classmethod
    def fetch_by_age(cls, age):
        return cls.query.filter(cls.age == age).order_by(cls.id).all()

    def change_sex(self, sex=None):
        self.sex = sex
        self.updated_at = datetime.utcnow()


class Session:
    """The guide's Session: a value per key in Redis."""

    def __init__(self, redis):
        self.redis = redis

    def get(self, key):
        return self.redis.get(key)

    def save(self, key, value):
        self.redis.set(key, value)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if t else None


def as_json(u):
    return {"id": u.id, "name": u.name, "email": u.email, "age": u.age, "sex": u.sex,
            "created_at": iso(u.created_at), "updated_at": iso(u.updated_at)}


@app.get("/users/<int:user_id>")
def get_user(user_id):
    u = sa.session.get(SAUser, user_id)
    if u is None:
        abort(404)
    return jsonify(as_json(u))


@app.get("/users")
def list_users():
    q = SAUser.query
    age = request.args.get("age", type=int)
    if age is not None:
        q = q.filter(SAUser.age == age)
    total = q.count()
    items = [as_json(u) for u in q.order_by(SAUser.id).limit(LIMIT).all()]
    return jsonify(items=items, total=total, limit=LIMIT, offset=0)
