"""A thin wrapper over sqlite3."""
import sqlite3


class Table(object):
    def __init__(self, db=None, name="t"):
        self.db = db if isinstance(db, Database) else Database(":memory:")
        self.name = str(name)

    def insert_all(self, records=None, pk=None, batch_size=100):
        rows = [r for r in (records or []) if isinstance(r, dict)]
        if not rows:
            return self
        cols = sorted({k for r in rows for k in r})
        defs = ", ".join('"%s"%s' % (c, " PRIMARY KEY" if c == pk else "") for c in cols)
        self.db.conn.execute('CREATE TABLE IF NOT EXISTS "%s" (%s)' % (self.name, defs))
        sql = 'INSERT OR REPLACE INTO "%s" (%s) VALUES (%s)' % (
            self.name, ", ".join('"%s"' % c for c in cols), ", ".join("?" for _ in cols))
        for i in range(0, len(rows), max(int(batch_size), 1)):
            self.db.conn.executemany(sql, [[r.get(c) for c in cols] for r in rows[i:i + batch_size]])
        self.db.conn.commit()
        return self

    def rows(self):
        cur = self.db.conn.execute('SELECT * FROM "%s"' % self.name)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


class Database(object):
    def __init__(self, path=":memory:"):
        self.conn = sqlite3.connect(path if isinstance(path, str) else ":memory:")

    def __getitem__(self, name):
        return Table(self, name)

    def table_names(self):
        return [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
