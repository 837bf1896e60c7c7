"""The guide's MEUser (app/models/me_user.py) through MongoEngine, for interop tests.

    python3 me_user_app.py URL add NAME EMAIL AGE SEX   MEUser(...).save(); prints its pk
    python3 me_user_app.py URL get PK                   the stored document by _id, as JSON
                                                        (exit 3 when there is none)
    python3 me_user_app.py URL names                    MongoEngine's reading: every MEUser's
                                                        name, sex and pk, as JSON

URL is a mongodb:// URL with the database as its path. Run with Debian's
/usr/bin/python3 (python3-mongoengine 0.24, python3-pymongo).

MongoEngine 0.24 writes MEUser but cannot read it back by its key: because of the
declared `id = StringField()` its automatic key field is `auto_id_0`, stored as
`_auto_id_0`, while the document's key is the `_id` the driver gave it. Reading any
MEUser (its own too) fails with FieldDoesNotExist: {'_id'}, and `objects(pk=...)`
queries `_auto_id_0`, which no document has. So `get` reads the document MongoEngine
stores with pymongo, from MongoEngine's own collection (MEUser._get_collection()), and
`names` reads through MongoEngine with strict off, which ignores `_id` (pk is None).
"""
import datetime
import json
import sys

from mongoengine import (DateTimeField, Document, EmailField, IntField,
                         StringField, connect)

url, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
connect(host=url)


class Base(Document):
    meta = {"abstract": True}
    created_at = DateTimeField()
    updated_at = DateTimeField()

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        if self.created_at is None:  # the guide sets both when the object is made
            self.created_at = self.updated_at = datetime.datetime.utcnow()


class MEUser(Base):
    id = StringField()
    name = StringField()
    email = EmailField()
    sex = StringField()
    age = IntField()


if command == "add":
    name, email, age, sex = args
    u = MEUser(name=name, email=email, age=int(age), sex=sex)
    u.save()
    print(u.pk)
elif command == "get":
    from bson import ObjectId
    doc = MEUser._get_collection().find_one({"_id": ObjectId(args[0])})
    if doc is None:
        sys.exit(3)
    print(json.dumps({
        "collection": MEUser._get_collection_name(),
        "_id": "%s %s" % (type(doc["_id"]).__name__, doc["_id"]),
        "name": doc.get("name"), "email": doc.get("email"), "age": doc.get("age"),
        "sex": doc.get("sex"), "id": doc.get("id"),
        "created_at": type(doc.get("created_at")).__name__,
    }))
elif command == "names":
    class LenientMEUser(Base):  # MEUser's fields, reading past `_id`
        meta = {"strict": False, "collection": MEUser._get_collection_name()}
        id = StringField()
        name = StringField()
        email = EmailField()
        sex = StringField()
        age = IntField()
    Lenient = LenientMEUser
    print(json.dumps(sorted([u.name, u.sex, u.pk] for u in Lenient.objects)))
else:
    sys.exit("unknown command " + command)
