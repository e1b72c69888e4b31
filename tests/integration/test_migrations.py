"""control.db is created and migrated at start-up, and a binary refuses a
database whose schema is newer than it knows."""
import os
import sqlite3
import subprocess
import unittest

import harness


class MigrationTest(unittest.TestCase):
    def setUp(self):
        self.api = harness.Api()

    def tearDown(self):
        self.api.close()

    def db_path(self):
        return os.path.join(self.api.data_dir, "control.db")

    def test_created_and_migrated(self):
        self.api.start()
        self.api.stop()
        db = sqlite3.connect(self.db_path())
        version = db.execute("PRAGMA user_version").fetchone()[0]
        migrations = [f for f in os.listdir(os.path.join(harness.SOURCE_DIR, "schema", "control"))
                      if f.endswith(".sql")]
        self.assertEqual(version, len(migrations))
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "wal")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for t in ("admins", "domains", "users", "credentials", "aliases", "dkim_keys", "events",
                  "api_keys"):
            self.assertIn(t, tables)
        db.close()
        self.assertEqual(os.stat(self.db_path()).st_mode & 0o077, 0)
        # Starting again on the same data reuses it (no second bootstrap, same admin).
        self.api.start()
        token = self.api.login()
        self.assertEqual(self.api.request("GET", "/api/v1/me", token=token).status, 200)

    def test_newer_database_refused(self):
        self.api.start()
        self.api.stop()
        db = sqlite3.connect(self.db_path())
        db.execute("PRAGMA user_version = 999")
        db.commit()
        db.close()
        r = subprocess.run([self.api.binary, "--config", self.api.config_path, "run"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("newer", r.stderr)
        self.assertIn("999", r.stderr)

    def test_bad_config_refused(self):
        with open(self.api.config_path, "a") as f:
            f.write("api.lisen = 127.0.0.1:1\n")
        r = subprocess.run([self.api.binary, "--config", self.api.config_path, "check-config"],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("api.lisen", r.stderr)
        self.assertIn("api.listen", r.stderr)  # the suggestion


if __name__ == "__main__":
    unittest.main()
