"""A plain Flask-SQLAlchemy app: its model has no created_at / updated_at.

    python3 post_app.py DB create       sa.create_all() and three posts
    python3 post_app.py DB dump         one JSON object per post, in id order
    python3 post_app.py DB schema       the table's columns (PRAGMA table_info) and tables

For the test that serves this table with `kura serve` (test_flask_serve.c).
Run with Debian's /usr/bin/python3 (python3-flask-sqlalchemy).
"""
import json
import sys

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + sys.argv[1]
db = SQLAlchemy(app)


class Post(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(80), nullable=False)
    body = db.Column(db.Text)
    published = db.Column(db.Boolean)
    score = db.Column(db.Float)


def main():
    cmd = sys.argv[2]
    with app.app_context():
        if cmd == "create":
            db.create_all()
            db.session.add(Post(title="Hello", body="First post\nfrom Python", published=True,
                                score=1.5))
            db.session.add(Post(title="Draft", body=None, published=False, score=None))
            db.session.add(Post(title="Ünïcode ✓", body="'quotes' and \"more\"", published=True,
                                score=-0.25))
            db.session.commit()
        elif cmd == "dump":
            for p in Post.query.order_by(Post.id).all():
                print(json.dumps({"id": p.id, "title": p.title, "body": p.body,
                                  "published": p.published, "score": p.score},
                                 ensure_ascii=False))
        elif cmd == "schema":
            conn = db.engine.raw_connection()
            cols = conn.execute("PRAGMA table_info(post)").fetchall()
            tables = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").fetchall()
            print(json.dumps({"columns": [c[1] for c in cols], "tables": [t[0] for t in tables]}))
        else:
            sys.exit("unknown command " + cmd)


main()
