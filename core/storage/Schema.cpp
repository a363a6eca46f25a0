#include "Schema.h"

namespace sluice {

// The first six limit columns shared by tiers, principal_defaults, users and api_keys, as
// migration 2 created them; concurrent_requests is added by migration 3. Never edit a released
// migration: add a new one. DOUBLE PRECISION has REAL affinity in SQLite; BIGINT has INTEGER
// affinity.
#define LIMIT_COLUMNS                        \
    "requests_per_second DOUBLE PRECISION, " \
    "burst BIGINT, "                         \
    "requests_per_minute BIGINT, "           \
    "tokens_per_minute BIGINT, "             \
    "monthly_requests BIGINT, "              \
    "monthly_tokens BIGINT, "

QList<Migration> Schema::identityMigrations()
{
    return {
        {1,
         QStringLiteral("gateway instances"),
         {
             // Each running gateway upserts its row at start and refreshes last_seen_at; the
             // health check reads it, and shared deployments can see their peers.
             QStringLiteral("CREATE TABLE gateway_instances ("
                            "instance_id TEXT PRIMARY KEY, "
                            "hostname TEXT NOT NULL, "
                            "version TEXT NOT NULL, "
                            "started_at {{timestamp}} NOT NULL, "
                            "last_seen_at {{timestamp}} NOT NULL)"),
         }},
        {2,
         QStringLiteral("users, api keys, tiers, audit log"),
         {
             // Limits: NULL inherits (key > tier > per-principal default), 0 is unlimited.
             // Timestamps are TEXT "yyyy-MM-ddTHH:mm:ss.zzzZ" (UTC, fixed width) in both
             // databases, so they compare and sort as strings the same way everywhere.
             QStringLiteral("CREATE TABLE tiers ("
                            "name TEXT PRIMARY KEY, " LIMIT_COLUMNS "created_at TEXT NOT NULL, "
                            "updated_at TEXT NOT NULL)"),
             QStringLiteral(
                 "CREATE TABLE principal_defaults ("
                 "principal TEXT PRIMARY KEY CHECK (principal IN ('user', 'key')), " LIMIT_COLUMNS
                 "updated_at TEXT NOT NULL)"),
             QStringLiteral(
                 "CREATE TABLE users ("
                 "id {{id}}, "
                 "name TEXT NOT NULL UNIQUE, "
                 "email TEXT, "
                 "tier TEXT NOT NULL REFERENCES tiers (name), "
                 "status TEXT NOT NULL CHECK (status IN ('active', 'disabled')), " LIMIT_COLUMNS
                 "created_at TEXT NOT NULL, "
                 "updated_at TEXT NOT NULL)"),
             // hash: hex SHA-256 of the key, the only trace of the key material at rest.
             // models: JSON array of globs, "[]" = every model.
             QStringLiteral("CREATE TABLE api_keys ("
                            "id {{id}}, "
                            "user_id BIGINT NOT NULL REFERENCES users (id), "
                            "name TEXT NOT NULL DEFAULT '', "
                            "prefix TEXT NOT NULL, "
                            "hash TEXT NOT NULL UNIQUE, "
                            "tier TEXT REFERENCES tiers (name), " LIMIT_COLUMNS
                            "models TEXT NOT NULL DEFAULT '[]', "
                            "status TEXT NOT NULL CHECK (status IN ('active', 'revoked')), "
                            "created_at TEXT NOT NULL, "
                            "last_used_at TEXT, "
                            "expires_at TEXT, "
                            "updated_at TEXT NOT NULL)"),
             QStringLiteral("CREATE INDEX api_keys_user_id ON api_keys (user_id)"),
             QStringLiteral("CREATE INDEX api_keys_prefix ON api_keys (prefix)"),
             QStringLiteral("CREATE INDEX users_tier ON users (tier)"),
             // Who changed what; details is a JSON object and never holds key material.
             QStringLiteral("CREATE TABLE audit_log ("
                            "id {{id}}, "
                            "at TEXT NOT NULL, "
                            "actor TEXT NOT NULL, "
                            "action TEXT NOT NULL, "
                            "target_type TEXT NOT NULL, "
                            "target_id TEXT NOT NULL, "
                            "details TEXT NOT NULL DEFAULT '{}')"),
             QStringLiteral("CREATE INDEX audit_log_at ON audit_log (at)"),
             // Bumped by every identity edit in the edit's transaction: gateways poll this one
             // row to know when to reload their key cache (also edits made by other processes).
             QStringLiteral("CREATE TABLE identity_revision ("
                            "id INTEGER PRIMARY KEY CHECK (id = 1), "
                            "revision BIGINT NOT NULL)"),
             QStringLiteral("INSERT INTO identity_revision (id, revision) VALUES (1, 1)"),
         }},
        {3,
         QStringLiteral("concurrent requests limit"),
         {
             // The seventh limit field, appended after the tables' last column (every SELECT
             // names its columns, so the physical order does not matter). Existing rows get
             // NULL: inherit, as for the other fields. Runs on fresh databases too, which is
             // why LIMIT_COLUMNS above does not list it.
             QStringLiteral("ALTER TABLE tiers ADD COLUMN concurrent_requests BIGINT"),
             QStringLiteral("ALTER TABLE principal_defaults ADD COLUMN concurrent_requests BIGINT"),
             QStringLiteral("ALTER TABLE users ADD COLUMN concurrent_requests BIGINT"),
             QStringLiteral("ALTER TABLE api_keys ADD COLUMN concurrent_requests BIGINT"),
         }},
        {4,
         QStringLiteral("shadow mode and per-model limits"),
         {
             // Shadow mode (1: would-be denials are only counted and logged). A tier is in it or
             // not; a key's NULL follows its effective tier.
             QStringLiteral("ALTER TABLE tiers ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0"),
             QStringLiteral("ALTER TABLE api_keys ADD COLUMN shadow INTEGER"),
             // Per-model limits of a tier (owner: its name) or a key (owner: its id as text);
             // model is a name or a glob. No foreign key (one column names either kind):
             // AdminService writes an owner's rows in the owner's transaction. Tiers and keys
             // are never deleted (keys are revoked; ids are never reused), so rows cannot
             // outlive their owner. Unset limit columns are unlimited.
             QStringLiteral("CREATE TABLE model_limits ("
                            "owner_kind TEXT NOT NULL CHECK (owner_kind IN ('tier', 'key')), "
                            "owner TEXT NOT NULL, "
                            "model TEXT NOT NULL, " LIMIT_COLUMNS "concurrent_requests BIGINT, "
                            "PRIMARY KEY (owner_kind, owner, model))"),
         }},
    };
}

#undef LIMIT_COLUMNS

QList<Migration> Schema::ledgerMigrations()
{
    return {
        {1,
         QStringLiteral("ledger metadata"),
         {
             QStringLiteral("CREATE TABLE ledger_meta (key TEXT PRIMARY KEY, value TEXT)"),
         }},
        {2,
         QStringLiteral("usage rows and daily rollup"),
         {
             // One row per authenticated request that reached routing. No foreign keys: the
             // ledger may live in another database than users and keys (--ledger-db). at is
             // identity's Timestamp text ("2025-05-01T12:00:00.000Z"), so its first ten
             // characters are the UTC day and text order is time order in both databases.
             // ttfb_ms is NULL when no byte came back.
             QStringLiteral("CREATE TABLE usage ("
                            "id {{id}}, "
                            "at TEXT NOT NULL, "
                            "request_id TEXT NOT NULL DEFAULT '', "
                            "user_id BIGINT NOT NULL, "
                            "key_id BIGINT NOT NULL, "
                            "model TEXT NOT NULL DEFAULT '', "
                            "route TEXT NOT NULL DEFAULT '', "
                            "upstream TEXT NOT NULL DEFAULT '', "
                            "status INTEGER NOT NULL, "
                            "prompt_tokens BIGINT NOT NULL DEFAULT 0, "
                            "completion_tokens BIGINT NOT NULL DEFAULT 0, "
                            "cached_tokens BIGINT NOT NULL DEFAULT 0, "
                            "cache_write_tokens BIGINT NOT NULL DEFAULT 0, "
                            "reasoning_tokens BIGINT NOT NULL DEFAULT 0, "
                            "estimated INTEGER NOT NULL DEFAULT 0, "
                            "attempts INTEGER NOT NULL DEFAULT 1, "
                            "latency_ms DOUBLE PRECISION NOT NULL DEFAULT 0, "
                            "ttfb_ms DOUBLE PRECISION)"),
             QStringLiteral("CREATE INDEX usage_at ON usage (at)"),
             QStringLiteral("CREATE INDEX usage_user_at ON usage (user_id, at)"),
             QStringLiteral("CREATE INDEX usage_key_at ON usage (key_id, at)"),
             // Sums per UTC day, user, key and model, upserted in the transaction that writes
             // the raw rows, so the two always agree; kept when raw rows are pruned. errors
             // counts statuses >= 400 (499 = client abort), estimated the rows whose tokens
             // were estimated.
             QStringLiteral("CREATE TABLE usage_daily ("
                            "day TEXT NOT NULL, "
                            "user_id BIGINT NOT NULL, "
                            "key_id BIGINT NOT NULL, "
                            "model TEXT NOT NULL, "
                            "requests BIGINT NOT NULL DEFAULT 0, "
                            "errors BIGINT NOT NULL DEFAULT 0, "
                            "estimated BIGINT NOT NULL DEFAULT 0, "
                            "prompt_tokens BIGINT NOT NULL DEFAULT 0, "
                            "completion_tokens BIGINT NOT NULL DEFAULT 0, "
                            "cached_tokens BIGINT NOT NULL DEFAULT 0, "
                            "cache_write_tokens BIGINT NOT NULL DEFAULT 0, "
                            "reasoning_tokens BIGINT NOT NULL DEFAULT 0, "
                            "latency_ms_sum DOUBLE PRECISION NOT NULL DEFAULT 0, "
                            "PRIMARY KEY (day, user_id, key_id, model))"),
             QStringLiteral("CREATE INDEX usage_daily_user_day ON usage_daily (user_id, day)"),
             QStringLiteral("CREATE INDEX usage_daily_key_day ON usage_daily (key_id, day)"),
         }},
        {3,
         QStringLiteral("rate-limit violations and quota alerts"),
         {
             // Denials counted per UTC minute (its start, in the Timestamp text form), user,
             // key, limit (policy name: "key-rps"), route and shadow flag: a flood costs one
             // row per minute, not one per request. The writer upserts count = count + n.
             // limit_type is the X-RateLimit-Type of the limit; shadow is 1 for would-be
             // denials of shadow mode (the request was let through).
             QStringLiteral("CREATE TABLE violations ("
                            "id {{id}}, "
                            "minute TEXT NOT NULL, "
                            "user_id BIGINT NOT NULL, "
                            "key_id BIGINT NOT NULL, "
                            "limit_name TEXT NOT NULL, "
                            "limit_type TEXT NOT NULL, "
                            "tier TEXT NOT NULL DEFAULT '', "
                            "route TEXT NOT NULL DEFAULT '', "
                            "shadow INTEGER NOT NULL DEFAULT 0, "
                            "count BIGINT NOT NULL DEFAULT 0, "
                            "UNIQUE (minute, user_id, key_id, limit_name, route, shadow))"),
             QStringLiteral("CREATE INDEX violations_user_minute ON violations (user_id, minute)"),
             QStringLiteral("CREATE INDEX violations_key_minute ON violations (key_id, minute)"),
             // Monthly quota alerts: one row per principal, limit, month ("2026-12") and
             // threshold (80, 100). key_id is NULL for a user's quota; the unique index (NULL
             // read as 0) lets gateways sharing the database insert with ON CONFLICT DO NOTHING.
             QStringLiteral("CREATE TABLE alerts ("
                            "id {{id}}, "
                            "at TEXT NOT NULL, "
                            "month TEXT NOT NULL, "
                            "scope TEXT NOT NULL CHECK (scope IN ('user', 'key')), "
                            "user_id BIGINT NOT NULL, "
                            "key_id BIGINT, "
                            "limit_name TEXT NOT NULL, "
                            "threshold_percent INTEGER NOT NULL, "
                            "used DOUBLE PRECISION NOT NULL, "
                            "limit_value DOUBLE PRECISION NOT NULL)"),
             QStringLiteral("CREATE UNIQUE INDEX alerts_once ON alerts (month, limit_name, "
                            "threshold_percent, user_id, (COALESCE(key_id, 0)))"),
             QStringLiteral("CREATE INDEX alerts_at ON alerts (at)"),
             QStringLiteral("CREATE INDEX alerts_user_at ON alerts (user_id, at)"),
         }},
    };
}

}  // namespace sluice
