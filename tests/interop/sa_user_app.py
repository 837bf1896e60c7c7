"""The guide's Flask-SQLAlchemy app (app/models/sa_user.py), for interop tests.

    python3 sa_user_app.py DB create            sa.create_all()
    python3 sa_user_app.py DB add NAME EMAIL AGE SEX
    python3 sa_user_app.py DB dump              one JSON object per row, id order
    python3 sa_user_app.py DB schema            table_info and index_list as JSON

Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy).
"""
import json
import sys
from datetime import datetime

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db_path = sys.argv[1]
app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + db_path
sa = SQLAlchemy(app)


class Base(sa.Model):
    __abstract__ = True
    created_at = sa.Column(sa.DateTime)
    updated_at = sa.Column(sa.DateTime)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.created_at = datetime.utcnow()
        self.updated_at = datetime.utcnow()


class SAUser(Base):
    id = sa.Column(sa.Integer, primary_key=True)
    name = sa.Column(sa.String(128))
    email = sa.Column(sa.String(128))
    age = sa.Column(sa.Integer, index=True)
    sex = sa.Column(sa.String(1))

    @classmethod
    def fetch_30_age(cls):
        return cls.query.filter(cls.age == 30).all()


def main():
    cmd = sys.argv[2]
    with app.app_context():
        if cmd == "create":
            sa.create_all()
        elif cmd == "add":
            name, email, age, sex = sys.argv[3:7]
            sa.session.add(SAUser(name=name, email=email, age=int(age), sex=sex))
            sa.session.commit()
        elif cmd == "dump":
            for u in SAUser.query.order_by(SAUser.id).all():
                print(json.dumps({
                    "id": u.id, "name": u.name, "email": u.email, "age": u.age, "sex": u.sex,
                    "created_at": u.created_at.isoformat(sep=" "),
                    "updated_at": u.updated_at.isoformat(sep=" "),
                    "thirty": u in SAUser.fetch_30_age(),
                }))
        elif cmd == "schema":
            conn = sa.engine.raw_connection()
            cols = conn.execute("PRAGMA table_info(sa_user)").fetchall()
            idx = conn.execute("PRAGMA index_list(sa_user)").fetchall()
            print(json.dumps({"columns": sorted([c[1], c[2], c[3]] for c in cols),
                              "indexes": sorted([i[1], i[2]] for i in idx)}))
        else:
            sys.exit("unknown command " + cmd)


main()
