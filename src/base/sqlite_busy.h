/*
 * sqlite_busy.h — SQLite statements that must wait out a lock SQLite will not wait for.
 *
 * Switching a new file to WAL needs an exclusive lock, and SQLite does not call the
 * busy handler where waiting could deadlock (two connections each holding a shared
 * lock, each wanting it exclusive): programs opening one new database at the same
 * moment got "database is locked" at once. Both drivers on SQLite files (the SQL
 * store and the embedded key-value store) open files that way, so both use this.
 */
#ifndef KURA_BASE_SQLITE_BUSY_H
#define KURA_BASE_SQLITE_BUSY_H

#include <sqlite3.h>

/* sqlite3_exec(db, sql), tried again while it fails with SQLITE_BUSY or
 * SQLITE_LOCKED, for up to busy_ms in all (pauses from 1 ms, doubling to 16 ms).
 * Only for statements that hold no lock once they have failed (PRAGMA
 * journal_mode). Returns the last result code. */
int kura__sqlite_exec_busy(sqlite3 *db, const char *sql, long busy_ms);

#endif
