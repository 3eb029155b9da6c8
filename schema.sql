-- schema.sql: the one description of the gateway's SQLite database.
--
-- Migrations are numbered.  Each starts with a line "-- migrate: N" and runs
-- in its own transaction when `wactl migrate` finds PRAGMA user_version < N;
-- user_version is then N.  Never edit a migration that has shipped: add one.
-- wa-fcgi and wa-worker refuse to start against a version they do not know.
--
-- Times are unix epoch seconds (UTC) unless a column says milliseconds.
-- Every table that holds business data carries phone_number_id, the Meta
-- id of the business number the row belongs to, so that one database can
-- serve several numbers and numbers can later be split across machines.

-- migrate: 1

-- The webhook journal: every correctly signed POST body, byte for byte, in
-- the order it was acknowledged.  The source of truth (DESIGN rule 6).
CREATE TABLE webhook_events (
  id            INTEGER PRIMARY KEY,  -- journal order
  received_at   INTEGER NOT NULL,     -- when the responder committed it, unix milliseconds
  body          BLOB,                 -- raw body as signed by Meta; NULL once purged by retention
  body_size     INTEGER NOT NULL,     -- length of the body in bytes
  body_sha256   TEXT NOT NULL,        -- lowercase hex SHA-256 of the body (spots redeliveries)
  state         TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'applied', 'partial', 'duplicate', 'failed')),
                                      -- pending: not applied yet; applied: every item applied;
                                      -- partial: some items failed; duplicate: nothing new;
                                      -- failed: nothing could be applied (see error)
  applied_at    INTEGER,              -- when the worker applied it, unix milliseconds
  items_total   INTEGER,              -- messages + statuses + errors + other changes found
  items_applied INTEGER,              -- items that changed the database
  items_duplicate INTEGER,            -- items already known (redelivery)
  items_failed  INTEGER,              -- items refused; see error
  error         TEXT                  -- why items failed: "path: reason; ..." (bounded)
);
CREATE INDEX webhook_events_pending ON webhook_events (id) WHERE state = 'pending';
CREATE INDEX webhook_events_state ON webhook_events (state, id);

-- People who wrote to a business number.
CREATE TABLE contacts (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT NOT NULL,      -- business number the contact wrote to
  wa_id           TEXT,               -- WhatsApp id (usually phone digits); may be absent for username users
  user_id         TEXT,               -- business-scoped user id (BSUID, 2026+), when Meta sends one
  username        TEXT,               -- WhatsApp username, when the user adopted one
  profile_name    TEXT,               -- profile name as last seen, user-controlled text
  first_seen_at   INTEGER NOT NULL,   -- Meta timestamp of the first message seen
  last_seen_at    INTEGER NOT NULL,   -- Meta timestamp of the latest message seen
  opted_out       INTEGER NOT NULL DEFAULT 0, -- 1: asked for no business-initiated messages
  CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
);
CREATE UNIQUE INDEX contacts_wa_id ON contacts (phone_number_id, wa_id);
CREATE UNIQUE INDEX contacts_user_id ON contacts (phone_number_id, user_id);

-- One conversation per (business number, contact).
CREATE TABLE conversations (
  id                INTEGER PRIMARY KEY,
  phone_number_id   TEXT NOT NULL,    -- business number
  contact_id        INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  message_count     INTEGER NOT NULL DEFAULT 0, -- messages stored, both directions
  unread_count      INTEGER NOT NULL DEFAULT 0, -- inbound messages not yet marked read
  first_message_at  INTEGER,          -- Meta timestamp of the oldest message
  last_message_at   INTEGER,          -- Meta timestamp of the newest message
  last_inbound_at   INTEGER,          -- Meta timestamp of the customer's newest message
  window_expires_at INTEGER,          -- end of the customer-service window: last_inbound_at + 24 h
                                      -- (72 h after a Click-to-WhatsApp ad referral)
  assignee          TEXT NOT NULL DEFAULT 'bot', -- who answers: bot, a person, or an agent endpoint
  notes             TEXT,             -- free text kept by staff
  created_at        INTEGER NOT NULL, -- when the gateway first saw it, unix seconds
  UNIQUE (phone_number_id, contact_id)
);
CREATE INDEX conversations_last ON conversations (phone_number_id, last_message_at);

-- Every message, inbound and outbound, keyed by Meta's wamid.
CREATE TABLE messages (
  id               INTEGER PRIMARY KEY,
  phone_number_id  TEXT NOT NULL,     -- business number
  wamid            TEXT NOT NULL UNIQUE CHECK (length(wamid) <= 128), -- Meta message id
  direction        TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  conversation_id  INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
  contact_id       INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
  sender           TEXT,              -- inbound: the customer's wa_id (or BSUID); outbound: NULL
  recipient        TEXT,              -- outbound: the customer's wa_id; inbound: NULL
  type             TEXT NOT NULL,     -- Meta type: text, image, ..., unsupported, or any new one
  text             TEXT,              -- text body, media caption, or the searchable part of the type
  media_id         TEXT,              -- Meta media id (image, video, audio, document, sticker)
  mime_type        TEXT,              -- media MIME type as sent by Meta (may carry "; codecs=...")
  sha256           TEXT,              -- media digest as sent by Meta (base64 or hex)
  filename         TEXT,              -- document file name
  latitude         REAL,              -- location
  longitude        REAL,              -- location
  location_name    TEXT,              -- location: place name
  location_address TEXT,              -- location: address
  interactive_type TEXT,              -- button_reply, list_reply, nfm_reply, button (template quick reply)
  reply_id         TEXT,              -- id (or payload) of the tapped button or list row
  reply_title      TEXT,              -- title of the tapped button or list row
  reaction_to      TEXT,              -- reaction: wamid reacted to
  reaction_emoji   TEXT,              -- reaction: the emoji; NULL or '' when the reaction was removed
  context_wamid    TEXT,              -- the quoted message when this is a reply
  context_from     TEXT,              -- author of the quoted message
  forwarded        INTEGER NOT NULL DEFAULT 0, -- 1 forwarded, 2 frequently forwarded
  referral_source_id TEXT,            -- Click-to-WhatsApp ad or post id
  referral_ctwa_clid TEXT,            -- Click-to-WhatsApp click id
  error_code       INTEGER,           -- inbound unsupported: Meta's code; outbound failed: the failure code
  error_title      TEXT,              -- the matching title
  timestamp        INTEGER NOT NULL,  -- Meta's timestamp (when the user sent it / when we queued it)
  status           TEXT,              -- outbound: accepted, sent, delivered, read, played, failed
  status_at        INTEGER,           -- outbound: Meta timestamp of that status
  raw              TEXT NOT NULL,     -- the message item as JSON, unknown fields included
  webhook_event_id INTEGER REFERENCES webhook_events (id) ON DELETE SET NULL, -- journal entry it came from
  created_at       INTEGER NOT NULL   -- when the gateway stored it, unix seconds
);
CREATE INDEX messages_conversation ON messages (conversation_id, timestamp);
CREATE INDEX messages_number_time ON messages (phone_number_id, timestamp);

-- Every delivery status Meta reported, one row per (wamid, status), each with
-- its own time.  Rows may come before the message they describe is known.
CREATE TABLE message_statuses (
  id               INTEGER PRIMARY KEY,
  phone_number_id  TEXT NOT NULL,     -- business number
  wamid            TEXT NOT NULL,     -- our outbound message
  status           TEXT NOT NULL,     -- sent, delivered, read, played, failed, or an unknown value (kept, not ranked)
  timestamp        INTEGER NOT NULL,  -- Meta's time of this status
  recipient_id     TEXT,              -- customer wa_id
  recipient_user_id TEXT,             -- customer BSUID (2026+)
  biz_opaque_callback_data TEXT,      -- echo of what we sent (our outbox id)
  conversation_meta_id TEXT,          -- legacy conversation object: Meta's id
  conversation_origin  TEXT,          -- legacy conversation object: origin type
  conversation_expires_at INTEGER,    -- legacy conversation object: expiration
  pricing_model    TEXT,              -- CBP or PMP
  pricing_category TEXT,              -- marketing, utility, authentication, service, ...
  pricing_type     TEXT,              -- regular, free_customer_service, free_entry_point
  billable         INTEGER,           -- deprecated flag, 0/1, NULL when absent
  error_code       INTEGER,           -- failed: Meta's error code
  error_title      TEXT,              -- failed: title
  error_details    TEXT,              -- failed: error_data.details
  raw              TEXT NOT NULL,     -- the status item as JSON
  webhook_event_id INTEGER REFERENCES webhook_events (id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL,  -- when the gateway stored it, unix seconds
  UNIQUE (wamid, status)
);

-- Errors Meta reported in value.errors[]: not tied to one message.
CREATE TABLE webhook_errors (
  id               INTEGER PRIMARY KEY,
  phone_number_id  TEXT,              -- business number, when the change named one
  code             INTEGER,           -- Meta error code, e.g. 130429
  title            TEXT,              -- Meta's title
  message          TEXT,              -- Meta's message
  details          TEXT,              -- error_data.details
  raw              TEXT NOT NULL,     -- the error item as JSON
  item_sha256      TEXT NOT NULL UNIQUE, -- digest of raw: a redelivery stores nothing new
  webhook_event_id INTEGER REFERENCES webhook_events (id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL
);

-- Changes of other subscription fields (template status and quality,
-- account updates, user preferences, ...), kept whole for later use.
CREATE TABLE subscription_events (
  id               INTEGER PRIMARY KEY,
  waba_id          TEXT,              -- entry[].id: the WhatsApp Business Account
  phone_number_id  TEXT,              -- business number, when the value names one
  field            TEXT NOT NULL,     -- changes[].field, e.g. message_template_status_update
  event            TEXT,              -- value.event when present (APPROVED, REJECTED, ...)
  raw              TEXT NOT NULL,     -- the change's value as JSON
  item_sha256      TEXT NOT NULL UNIQUE, -- digest of field + raw: a redelivery stores nothing new
  webhook_event_id INTEGER REFERENCES webhook_events (id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL
);
CREATE INDEX subscription_events_field ON subscription_events (field, id);

-- What the single worker last said about itself (one row).
CREATE TABLE worker_status (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  pid           INTEGER NOT NULL,     -- process id of the running worker
  started_at    INTEGER NOT NULL,     -- unix seconds
  heartbeat_at  INTEGER NOT NULL      -- unix seconds of its latest sign of life
);

-- migrate: 2

-- The hot path appends to the journal and the worker marks entries done:
-- an index over every state costs both a page per webhook.  Entries that
-- need a person (failed, partial) are few; index only those.
DROP INDEX webhook_events_state;
CREATE INDEX webhook_events_trouble ON webhook_events (state, id)
  WHERE state IN ('failed', 'partial');

-- Everything the gateway says to customers leaves through this queue,
-- drained by wa-worker (DESIGN rules 4 and 5).  A row is written by one
-- entry point (outbox_queue in fcgi/outbox.c) after the request passed
-- Meta's limits, the 24-hour window, opt-out and tier checks.
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,  -- also sent as biz_opaque_callback_data, echoed in statuses
  phone_number_id TEXT NOT NULL,        -- business number it is sent from
  recipient       TEXT,                 -- normalised wa_id or BSUID; NULL for a read receipt
  kind            TEXT NOT NULL,        -- text, image, video, audio, document, sticker, location,
                                        -- contacts, interactive, template, reaction, read
  body            TEXT NOT NULL,        -- the Graph API request body (JSON) as validated
  text            TEXT,                 -- searchable part (text, caption, template name ...)
  reply_to        TEXT,                 -- wamid quoted (context.message_id) or marked read
  media_file      TEXT,                 -- local file to upload before sending, or NULL
  media_mime      TEXT,                 -- its MIME type
  free_form       INTEGER NOT NULL,     -- 1: only allowed inside the customer-service window
  business_initiated INTEGER NOT NULL DEFAULT 0, -- 1: a template queued while the window was closed
                                        -- (counts toward the messaging tier, reference 9.3)
  source          TEXT NOT NULL,        -- who queued it: wactl, api, bot
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'accepted', 'failed', 'cancelled')),
                                        -- accepted: Meta answered 200 (not yet delivered)
  attempts        INTEGER NOT NULL DEFAULT 0, -- calls to Meta made so far
  next_attempt_at INTEGER NOT NULL,     -- queued: not before this, unix milliseconds
  lease_until     INTEGER,              -- sending: reclaimed after this, unix milliseconds
  error_code      INTEGER,              -- last error: Meta's code (or NULL for our own refusals)
  error_title     TEXT,                 -- last error: Meta's message or our reason
  error_details   TEXT,                 -- last error: error_data.details
  wamid           TEXT,                 -- Meta's message id once accepted
  message_id      INTEGER REFERENCES messages (id) ON DELETE SET NULL, -- the outbound messages row
  idempotency_key TEXT,                 -- caller's key: a repeated request returns this row
  created_at      INTEGER NOT NULL,     -- when it was queued, unix milliseconds
  sent_at         INTEGER,              -- when Meta accepted it, unix milliseconds
  UNIQUE (phone_number_id, idempotency_key)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_open ON outbox (phone_number_id, recipient, id)
  WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_state ON outbox (state, id);
CREATE INDEX outbox_reach ON outbox (phone_number_id, sent_at)
  WHERE business_initiated = 1;
CREATE INDEX outbox_wamid ON outbox (wamid);

-- When the contact last changed their mind: STOP/START keywords, the
-- user_preferences webhook, or a 131050 failure.  Older signals that
-- arrive late never undo a newer one.
ALTER TABLE contacts ADD COLUMN opted_out_at INTEGER; -- Meta timestamp of the latest opt-out or opt-in

-- Media files: inbound ones downloaded by the worker, outbound ones uploaded.
CREATE TABLE media (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT NOT NULL,        -- business number
  media_id        TEXT NOT NULL,        -- Meta media id
  direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  message_id      INTEGER REFERENCES messages (id) ON DELETE CASCADE, -- inbound: the message it came with
  mime_type       TEXT,                 -- as Meta reported it
  sha256          TEXT,                 -- lowercase hex SHA-256 of the stored file
  size            INTEGER,              -- bytes
  path            TEXT,                 -- relative to $WA_STATE_DIR/media (content-addressed: ab/abcdef...)
  state           TEXT NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'stored', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL DEFAULT 0, -- pending: not before this, unix milliseconds
  error           TEXT,                 -- why the last attempt failed
  created_at      INTEGER NOT NULL,     -- unix seconds
  stored_at       INTEGER,              -- unix seconds
  UNIQUE (phone_number_id, media_id, direction)
);
CREATE INDEX media_pending ON media (next_attempt_at) WHERE state = 'pending';

-- What the sender last learned about its access token and breakers.
CREATE TABLE sender_status (
  phone_number_id TEXT PRIMARY KEY,     -- business number
  paused_reason   TEXT,                 -- token_invalid (code 190) or spam_limit (131048), NULL when sending
  paused_code     INTEGER,              -- Meta's code that paused it
  paused_at       INTEGER,              -- unix seconds
  resume_at       INTEGER,              -- breaker: try again after this, unix seconds; NULL until the token changes
  token_sha256    TEXT,                 -- digest of the token that failed: a new token resumes sending
  updated_at      INTEGER NOT NULL      -- unix seconds
);

-- migrate: 3

-- Business data the chatbot looks up (DESIGN: order status, production
-- schedule, defect tickets).  Loaded with `wactl import orders|schedule`.
CREATE TABLE orders (
  id                INTEGER PRIMARY KEY,
  phone_number_id   TEXT NOT NULL,    -- business number whose customers may ask about it
  number            TEXT NOT NULL,    -- the order number customers know, e.g. A-1042
  customer_wa_id    TEXT NOT NULL,    -- the customer's WhatsApp id: only they see this order
  status            TEXT NOT NULL,    -- free text: received, in production, shipped ...
  ordered_on        TEXT,             -- YYYY-MM-DD
  expected_delivery TEXT,             -- YYYY-MM-DD, or NULL when not known yet
  updated_at        INTEGER NOT NULL, -- when it was last imported, unix seconds
  UNIQUE (phone_number_id, number)
);
CREATE INDEX orders_customer ON orders (phone_number_id, customer_wa_id, ordered_on);

-- The items of an order.
CREATE TABLE order_lines (
  id        INTEGER PRIMARY KEY,
  order_id  INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no   INTEGER NOT NULL,          -- position in the order, from 1
  item      TEXT NOT NULL,             -- what is made
  quantity  TEXT,                      -- as the business writes it: "12", "3.5 m"
  UNIQUE (order_id, line_no)
);

-- What the plant does when, per order.
CREATE TABLE production_schedule (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT NOT NULL,       -- business number
  order_number    TEXT NOT NULL,       -- orders.number
  step            TEXT NOT NULL,       -- e.g. cutting, welding, painting
  starts_on       TEXT NOT NULL,       -- YYYY-MM-DD
  ends_on         TEXT,                -- YYYY-MM-DD, or NULL for one day
  UNIQUE (phone_number_id, order_number, step, starts_on)
);
CREATE INDEX production_schedule_day ON production_schedule (phone_number_id, starts_on);

-- Defect reports filed through the chatbot.
CREATE TABLE tickets (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT NOT NULL,       -- business number
  number          TEXT NOT NULL,       -- what the customer is told, e.g. T-000042
  contact_id      INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
  customer_wa_id  TEXT NOT NULL,       -- who filed it: only they may ask about it
  category        TEXT,                -- the category option chosen
  description     TEXT,                -- the customer's words
  state           TEXT NOT NULL DEFAULT 'open', -- open, in progress, closed ... (staff set it)
  created_at      INTEGER NOT NULL,    -- unix seconds
  updated_at      INTEGER NOT NULL,    -- unix seconds
  UNIQUE (phone_number_id, number)
);

-- Photos sent with a defect report (media ids; the files are in media).
CREATE TABLE ticket_media (
  ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
  media_id  TEXT NOT NULL,             -- Meta media id, as in media.media_id
  PRIMARY KEY (ticket_id, media_id)
);

-- Where each contact is in the flow.
CREATE TABLE bot_state (
  phone_number_id TEXT NOT NULL,       -- business number
  contact_id      INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  node            TEXT NOT NULL,       -- current flow node id
  vars            TEXT,                -- values collected so far (JSON object)
  last_active     INTEGER NOT NULL,    -- Meta time of the last message handled
  hinted          INTEGER NOT NULL DEFAULT 0, -- 1: the unknown-input hint was given
  PRIMARY KEY (phone_number_id, contact_id)
);

-- How often customers choose each option, per day (for statistics).
CREATE TABLE bot_choices (
  phone_number_id TEXT NOT NULL,       -- business number
  day             TEXT NOT NULL,       -- YYYY-MM-DD (UTC)
  node            TEXT NOT NULL,       -- flow node id
  option          TEXT NOT NULL,       -- option id
  count           INTEGER NOT NULL,    -- times chosen that day
  PRIMARY KEY (phone_number_id, day, node, option)
);

-- Calls to an external AI agent, durable so a crash delays, never loses.
CREATE TABLE agent_requests (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT NOT NULL,       -- business number
  contact_id      INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
  recipient       TEXT NOT NULL,       -- the customer's wa_id (the reply goes there)
  url             TEXT NOT NULL,       -- the agent's endpoint
  body            TEXT NOT NULL,       -- JSON posted to it
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'answered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,    -- unix milliseconds
  error           TEXT,                -- why the last call failed
  created_at      INTEGER NOT NULL     -- unix milliseconds
);
CREATE INDEX agent_requests_due ON agent_requests (next_attempt_at) WHERE state = 'queued';

-- Meta time of the contact's newest opt-out, whether or not a newer
-- opt-in undid it: a START from someone who never left is just a word.
ALTER TABLE contacts ADD COLUMN last_stop_at INTEGER;

-- 1: the bot's confirmation of a STOP, the one message an opted-out
-- contact still gets.
ALTER TABLE outbox ADD COLUMN optout_ack INTEGER NOT NULL DEFAULT 0;

-- Who answers a conversation: 'bot', 'person:<name>' or 'agent:<url>'.
ALTER TABLE conversations ADD COLUMN assigned_until INTEGER; -- hand-off ends then (unix seconds), NULL: until released

-- migrate: 4

-- Keys for the management API.  Only a digest of each key is kept: the
-- key itself is printed once by `wactl apikey create`.
CREATE TABLE api_keys (
  id           INTEGER PRIMARY KEY,
  name         TEXT NOT NULL UNIQUE,   -- what it is for, e.g. "nightly export"
  key_sha256   TEXT NOT NULL UNIQUE,   -- lowercase hex SHA-256 of the key
  key_prefix   TEXT NOT NULL,          -- its first 8 characters, to tell keys apart
  read_only    INTEGER NOT NULL DEFAULT 0, -- 1: GET only
  created_at   INTEGER NOT NULL,       -- unix seconds
  last_used_at INTEGER,                -- unix seconds, to the minute
  revoked_at   INTEGER                 -- unix seconds; a revoked key is refused
);

-- Full-text search over message text and captions (GET /messages?q=).
-- An external-content index: the text lives once, in messages.  The
-- worker indexes new messages in chunks right after applying them (not
-- in a trigger on every insert, which cost a third of its apply rate);
-- search_state says how far it got, so deletes and edits touch the
-- index only for rows it holds.
CREATE VIRTUAL TABLE messages_fts USING fts5(
  text, content = 'messages', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_state (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  indexed_to INTEGER NOT NULL        -- every message with id <= this is in messages_fts
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO search_state VALUES (1, coalesce((SELECT max(id) FROM messages), 0));
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
  WHEN old.text IS NOT NULL AND
       old.id <= (SELECT indexed_to FROM search_state WHERE id = 1) BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, text)
    VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
  WHEN old.id <= (SELECT indexed_to FROM search_state WHERE id = 1) BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, text)
    SELECT 'delete', old.id, old.text WHERE old.text IS NOT NULL;
  INSERT INTO messages_fts (rowid, text)
    SELECT new.id, new.text WHERE new.text IS NOT NULL;
END;

-- What staff keep about a conversation (PATCH /conversations/{id}).
ALTER TABLE conversations ADD COLUMN customer_email TEXT; -- as staff typed it
ALTER TABLE conversations ADD COLUMN labels TEXT;         -- JSON array of short strings

-- migrate: 5

-- A CHECK with an IN list of more than two values makes SQLite build a
-- temporary index every time a row is inserted or updated: for the
-- journal that is every webhook stored and every entry applied (a tenth
-- of the worker's instructions).  The same constraints as OR chains are
-- plain comparisons.  Only the schema text changes, no row is touched,
-- following SQLite's documented procedure for changing constraints
-- (writable_schema; `wactl migrate` then bumps the schema cookie so that
-- every connection rereads the schema).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (state IN (''pending'', ''applied'', ''partial'', ''duplicate'', ''failed''))',
  'CHECK (state = ''pending'' OR state = ''applied'' OR state = ''partial'' OR state = ''duplicate'' OR state = ''failed'')')
  WHERE type = 'table' AND name = 'webhook_events';
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (state IN (''queued'', ''sending'', ''accepted'', ''failed'', ''cancelled''))',
  'CHECK (state = ''queued'' OR state = ''sending'' OR state = ''accepted'' OR state = ''failed'' OR state = ''cancelled'')')
  WHERE type = 'table' AND name = 'outbox';
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (state IN (''pending'', ''stored'', ''failed''))',
  'CHECK (state = ''pending'' OR state = ''stored'' OR state = ''failed'')')
  WHERE type = 'table' AND name = 'media';
UPDATE sqlite_schema SET sql = replace(sql,
  'CHECK (state IN (''queued'', ''sending'', ''answered'', ''failed''))',
  'CHECK (state = ''queued'' OR state = ''sending'' OR state = ''answered'' OR state = ''failed'')')
  WHERE type = 'table' AND name = 'agent_requests';
PRAGMA writable_schema = OFF;

-- migrate: 6

-- Names follow the newest message that carried one, each on its own
-- clock, so that a message without a name, or an older one, never
-- decides; NULL until a message brought the name (issue 10, item 2).
ALTER TABLE contacts ADD COLUMN profile_name_at INTEGER; -- Meta time of the message that set profile_name
ALTER TABLE contacts ADD COLUMN username_at INTEGER;     -- Meta time of the message that set username
UPDATE contacts SET profile_name_at = last_seen_at WHERE profile_name IS NOT NULL;
UPDATE contacts SET username_at = last_seen_at WHERE username IS NOT NULL;

-- Number changes (reference 5.11): the old id of a contact maps to its
-- new one, so that a late message from the old number, or an early one
-- from the new, ends with the same contact whatever the arrival order.
CREATE TABLE contact_renames (
  phone_number_id TEXT NOT NULL,      -- business number
  old_id          TEXT NOT NULL,      -- the wa_id (or BSUID) the contact had
  new_id          TEXT NOT NULL,      -- the one it changed to
  timestamp       INTEGER NOT NULL,   -- Meta time of the system message
  PRIMARY KEY (phone_number_id, old_id)
);

-- Where a message came from besides the customer's own phone: NULL for
-- webhooks and our own sends, 'echo' for one the business sent from the
-- WhatsApp Business app (smb_message_echoes), 'history' for past chats
-- imported at onboarding (reference 14.2).
ALTER TABLE messages ADD COLUMN source TEXT;
-- Edits and deletions by the customer (reference 14.1).
ALTER TABLE messages ADD COLUMN original_text TEXT;  -- text before the first edit; NULL when never edited
ALTER TABLE messages ADD COLUMN edited_at INTEGER;   -- Meta time of the newest edit
ALTER TABLE messages ADD COLUMN revoked_at INTEGER;  -- Meta time the customer deleted it; text is then NULL

-- Every edit and deletion, keyed by its own wamid.  One whose original
-- is not stored yet waits here and is applied when the original comes.
CREATE TABLE message_edits (
  id               INTEGER PRIMARY KEY,
  phone_number_id  TEXT NOT NULL,     -- business number
  wamid            TEXT NOT NULL UNIQUE CHECK (length(wamid) <= 128), -- the edit's own id
  original_wamid   TEXT NOT NULL,     -- the message edited or deleted
  kind             TEXT NOT NULL CHECK (kind = 'edit' OR kind = 'revoke'),
  type             TEXT,              -- edit: the new content's type
  text             TEXT,              -- edit: the new text or caption
  timestamp        INTEGER NOT NULL,  -- Meta time of the edit
  raw              TEXT NOT NULL,     -- the item as JSON
  webhook_event_id INTEGER REFERENCES webhook_events (id) ON DELETE SET NULL,
  created_at       INTEGER NOT NULL
);
CREATE INDEX message_edits_original ON message_edits (original_wamid, timestamp);

-- migrate: 7

-- The business's own address book (smb_app_state_sync, coexistence with
-- the WhatsApp Business app): the name the business saved for a contact,
-- set or cleared by the newest entry.  A contact known only from there
-- has no message yet; its first_seen_at/last_seen_at then span the times
-- the business's phone reported it (and messages widen them as usual).
ALTER TABLE contacts ADD COLUMN saved_name TEXT;       -- the business's name for the contact; NULL none or removed
ALTER TABLE contacts ADD COLUMN saved_name_at INTEGER; -- Meta time of the address-book entry that decided saved_name

-- migrate: 8

-- A conversation's messages newest first by id, the way GET /messages
-- pages them (the cursor is an id): the index is (conversation_id,
-- rowid), so a page reads its 50 entries and stops.  With only
-- messages_conversation (conversation_id, timestamp) every message of
-- the conversation was read and sorted: 0.5 s for a 40,000-message
-- conversation of a 10 M-message database (docs/scaling.md).
CREATE INDEX messages_conversation_id ON messages (conversation_id);

-- migrate: 9

-- The business numbers this install serves (issue 13).  `wactl migrate`
-- seeds WHATSAPP_PHONE_NUMBER_ID as `default`; `wactl numbers add` checks
-- others with the Graph API first.  Tokens never come in here: a number
-- names the environment variable that holds its token.
CREATE TABLE numbers (
  phone_number_id      TEXT PRIMARY KEY CHECK (phone_number_id <> '' AND phone_number_id NOT GLOB '*[^0-9]*'), -- Meta's id of the number (digits)
  waba_id              TEXT,             -- the WhatsApp Business Account it belongs to; NULL unknown
  display_phone_number TEXT,             -- as Meta shows it, e.g. "+1 555-010-0000"; NULL until checked
  verified_name        TEXT,             -- the business name Meta verified; NULL until checked
  label                TEXT UNIQUE NOT NULL CHECK (length(label) BETWEEN 1 AND 32 AND label NOT GLOB '*[^a-z0-9_-]*'), -- short name for wactl and the API
  token_env            TEXT NOT NULL DEFAULT 'WHATSAPP_ACCESS_TOKEN', -- NAME of the environment variable holding its access token
  flow_path            TEXT,             -- the chatbot flow file it runs; NULL WA_FLOW_FILE
  send_rate            INTEGER CHECK (send_rate BETWEEN 1 AND 1000), -- messages/s; NULL WA_SEND_RATE
  quality_rating       TEXT,             -- Meta's GREEN, YELLOW, RED or UNKNOWN at the last check
  messaging_limit_tier TEXT,             -- Meta's tier, e.g. TIER_1K, at the last check
  throughput           TEXT,             -- Meta's throughput level, e.g. STANDARD, at the last check
  status               TEXT,             -- Meta's status, e.g. CONNECTED, at the last check
  checked_at           INTEGER,          -- unix s of the last Graph check; NULL never
  created_at           INTEGER NOT NULL, -- unix s it was first added
  removed_at           INTEGER           -- unix s it was removed; NULL active (the row stays for history)
);

-- migrate: 10

-- Issue 13: many numbers, and Meta's account side.

-- What Meta last said about a number outside a Graph check: the health
-- webhooks (phone_number_quality_update, account_update,
-- business_capability_update) and the catalog it sells from.
ALTER TABLE numbers ADD COLUMN catalog_id TEXT;          -- Commerce catalog for product messages; NULL none
ALTER TABLE numbers ADD COLUMN quality_at INTEGER;       -- Meta time quality_rating or the tier last changed
ALTER TABLE numbers ADD COLUMN account_state TEXT;       -- last account_update event, e.g. ACCOUNT_RESTRICTION, DISABLED_UPDATE; NULL none
ALTER TABLE numbers ADD COLUMN account_detail TEXT;      -- that change's value as JSON (restrictions, violation, ban state)
ALTER TABLE numbers ADD COLUMN account_at INTEGER;       -- Meta time of that change
ALTER TABLE numbers ADD COLUMN max_daily_conversations INTEGER; -- business_capability_update: the tier as a number; NULL unknown
ALTER TABLE numbers ADD COLUMN profile TEXT;             -- the business profile as JSON, as Meta last returned it
ALTER TABLE numbers ADD COLUMN profile_at INTEGER;       -- unix s it was fetched

-- An API key may be limited to numbers: with rows here it sees only
-- those (everything else answers 404); with none, every number.
CREATE TABLE api_key_numbers (
  api_key_id      INTEGER NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  phone_number_id TEXT NOT NULL,      -- a number the key may see
  PRIMARY KEY (api_key_id, phone_number_id)
) WITHOUT ROWID;

-- Message templates of each WhatsApp Business Account, as Meta last
-- listed them (GET /{waba-id}/message_templates) and as the template
-- webhooks changed them since.  A template is (WABA, name, language).
CREATE TABLE templates (
  id              INTEGER PRIMARY KEY,
  waba_id         TEXT NOT NULL,      -- the account it belongs to
  template_id     TEXT,               -- Meta's id; NULL until Meta gave one
  name            TEXT NOT NULL,
  language        TEXT NOT NULL,      -- e.g. en_US
  category        TEXT,               -- MARKETING, UTILITY or AUTHENTICATION
  status          TEXT NOT NULL,      -- Meta's: APPROVED, PENDING, REJECTED, PAUSED, DISABLED, ...
  quality         TEXT,               -- GREEN, YELLOW, RED or UNKNOWN
  components      TEXT NOT NULL DEFAULT '[]', -- Meta's components array as JSON
  rejected_reason TEXT,               -- why Meta refused it; NULL none
  synced_at       INTEGER,            -- unix s of the sync that last saw it
  updated_at      INTEGER NOT NULL,   -- unix s of the last change here
  UNIQUE (waba_id, name, language)
);

-- Calls to Meta's account side that the API asks for (responders never
-- reach the network): the worker makes them in order and writes the
-- answer here, where GET /jobs/{id} reads it.
CREATE TABLE account_jobs (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT,               -- the number it is for; NULL a WABA-wide call
  waba_id         TEXT,               -- the account, when the call is about one
  kind            TEXT NOT NULL CHECK (kind = 'template_sync' OR kind = 'template_create' OR kind = 'template_delete' OR kind = 'profile_get' OR kind = 'profile_set'),
  body            TEXT,               -- what to send, as JSON; NULL none
  state           TEXT NOT NULL DEFAULT 'queued' CHECK (state = 'queued' OR state = 'running' OR state = 'done' OR state = 'failed'),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,   -- unix milliseconds
  result          TEXT,               -- Meta's answer as JSON, once done
  error_code      INTEGER,            -- Meta's code when it failed
  error_title     TEXT,               -- a sentence saying why, never a token
  created_at      INTEGER NOT NULL,   -- unix milliseconds
  finished_at     INTEGER             -- unix milliseconds
);
CREATE INDEX account_jobs_due ON account_jobs (next_attempt_at, id) WHERE state = 'queued';

-- migrate: 11

-- The inbox (issue 14): the people who sign in, their sessions, and what
-- they keep about conversations.

-- A person who signs in to the inbox.  Only a scrypt hash of the
-- password is kept, its parameters with it.
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,   -- sign-in name: 1-64 of a-z, 0-9, . _ -
  display_name  TEXT,                   -- shown to colleagues; NULL: name
  role          TEXT NOT NULL CHECK (role = 'admin' OR role = 'agent' OR role = 'viewer'),
  email         TEXT,                   -- for alerts; NULL none
  password_hash TEXT NOT NULL,          -- "scrypt$N$r$p$salt_b64$hash_b64"
  password_at   INTEGER NOT NULL,       -- unix s the password was set (sessions before it are dead)
  disabled_at   INTEGER,                -- unix s; a disabled user cannot sign in, sessions revoked
  created_at    INTEGER NOT NULL,       -- unix s
  last_login_at INTEGER                 -- unix s of the last successful sign-in
);

-- A user may be limited to numbers, as an API key may (api_key_numbers):
-- rows here, only those; none, every number.
CREATE TABLE user_numbers (
  user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  phone_number_id TEXT NOT NULL,
  PRIMARY KEY (user_id, phone_number_id)
) WITHOUT ROWID;

-- A signed-in browser.  The cookie carries a random 256-bit token; only
-- its SHA-256 is kept.  The CSRF token is derived from the session token
-- (never stored).  Idle 12 h, absolute 7 days.
CREATE TABLE sessions (
  id            INTEGER PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_sha256  TEXT NOT NULL UNIQUE,   -- lowercase hex SHA-256 of the token
  created_at    INTEGER NOT NULL,       -- unix s
  last_used_at  INTEGER NOT NULL,       -- unix s, to the minute
  expires_at    INTEGER NOT NULL,       -- unix s: created_at + 7 days
  revoked_at    INTEGER,                -- unix s: signed out, password changed, user disabled
  address       TEXT,                   -- REMOTE_ADDR at sign-in
  user_agent    TEXT                    -- first 200 bytes of User-Agent at sign-in
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins, per user name and per address, to slow guessing.
CREATE TABLE login_failures (
  who           TEXT PRIMARY KEY,       -- "user:NAME" or "addr:ADDRESS"
  failures      INTEGER NOT NULL,       -- in a row since the last success
  last_at       INTEGER NOT NULL,       -- unix s of the latest
  locked_until  INTEGER NOT NULL        -- unix s; refused until then
) WITHOUT ROWID;

-- Labels staff put on conversations (conversations.labels holds the
-- names); made on the fly by the first conversation that uses one.
CREATE TABLE labels (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,      -- 1-40 bytes
  color      TEXT,                      -- "#rrggbb"; NULL: the inbox picks one
  created_at INTEGER NOT NULL
);

-- Notes staff write on a conversation, each with its author and time.
CREATE TABLE conversation_notes (
  id              INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL, -- NULL: an API key
  author          TEXT NOT NULL,        -- the user's name or "api:KEYNAME", kept after the user goes
  text            TEXT NOT NULL,
  created_at      INTEGER NOT NULL      -- unix s
);
CREATE INDEX conversation_notes_conv ON conversation_notes (conversation_id, id);

-- What staff did to a conversation (assigned, labelled, noted, handed to
-- the bot, read ...), newest last: the conversation's history, and with
-- messages and statuses what the inbox's change cursor watches.
CREATE TABLE activity (
  id              INTEGER PRIMARY KEY,
  conversation_id INTEGER NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
  phone_number_id TEXT NOT NULL,
  user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
  actor           TEXT NOT NULL,        -- user name, "api:KEYNAME", "bot"
  kind            TEXT NOT NULL,        -- assign, label, note, email, read, handoff, release, ...
  detail          TEXT,                 -- JSON: what changed
  at              INTEGER NOT NULL      -- unix ms
);
CREATE INDEX activity_conv ON activity (conversation_id, id);

-- Canned answers, inserted in the reply box by "/shortcut".
CREATE TABLE quick_replies (
  id              INTEGER PRIMARY KEY,
  shortcut        TEXT NOT NULL UNIQUE, -- 1-32 of a-z, 0-9, _ -
  text            TEXT NOT NULL,        -- up to 4096 bytes (a WhatsApp text)
  phone_number_id TEXT,                 -- only for this number; NULL every number
  created_by      TEXT,                 -- user name
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

-- Who queued an outbound message from the inbox (a person), kept on the
-- outbox row and copied to the message the worker writes for it.
ALTER TABLE outbox ADD COLUMN user_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN user_id INTEGER;  -- outbound sent by a person: users.id; NULL bot/API

-- Files people upload in the inbox to send as media (POST /media).
CREATE TABLE uploads (
  id              INTEGER PRIMARY KEY,
  phone_number_id TEXT,                 -- the number it may be sent from; NULL any
  user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
  filename        TEXT,                 -- as the browser named it
  mime_type       TEXT NOT NULL,
  size            INTEGER NOT NULL,     -- bytes
  sha256          TEXT NOT NULL,        -- lowercase hex
  path            TEXT NOT NULL,        -- relative to $WA_STATE_DIR/media
  created_at      INTEGER NOT NULL
);

-- migrate: 12

-- Event webhooks (issue 16): other systems (a CRM, n8n, a helpdesk)
-- subscribe to what happens here.  An event is queued as one delivery per
-- matching hook in the same transaction as the change it reports
-- (DESIGN rule 4); the worker POSTs it, signed, and retries.
CREATE TABLE hooks (
  id              INTEGER PRIMARY KEY,
  url             TEXT NOT NULL,        -- https:// endpoint (http:// only with WA_HOOKS_ALLOW_PRIVATE=1)
  events          TEXT NOT NULL,        -- comma-separated event types, e.g. "message.received,message.status"
  phone_number_id TEXT,                 -- only this number's events; NULL every number
  secret_env      TEXT,                 -- the worker's setting that holds the signing secret; NULL: secret below
  secret          TEXT,                 -- generated signing secret (printed once at creation); NULL with secret_env
  state           TEXT NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'paused', 'disabled')),
  disabled_reason TEXT,                 -- why the worker disabled it (failing for 24 h)
  failing_since   INTEGER,              -- first failure of the current run of failures; NULL when the last one succeeded
  created_by      TEXT,                 -- user name or api:KEYNAME
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);

-- One event for one hook.  Deliveries of one conversation to one hook go
-- out one at a time, in id order (conversation_id is the ordering key;
-- NULL: no order with other events).
CREATE TABLE event_deliveries (
  id              INTEGER PRIMARY KEY,
  hook_id         INTEGER NOT NULL REFERENCES hooks (id) ON DELETE CASCADE,
  event_id        TEXT NOT NULL,        -- "evt_..." the same for every hook the event went to, and on redelivery
  type            TEXT NOT NULL,        -- message.received, message.sent, ...
  phone_number_id TEXT,
  conversation_id INTEGER,
  body            TEXT NOT NULL,        -- the JSON posted: {id, type, created_at, number, data}
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'delivered', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,     -- unix milliseconds
  lease_until     INTEGER,              -- unix milliseconds: a 'sending' row past it is queued again
  last_status     INTEGER,              -- HTTP status of the last attempt; NULL when none came
  last_error      TEXT,                 -- why the last attempt failed
  created_at      INTEGER NOT NULL,     -- unix milliseconds
  delivered_at    INTEGER               -- unix milliseconds
);
CREATE INDEX event_deliveries_due ON event_deliveries (next_attempt_at) WHERE state = 'queued';
CREATE INDEX event_deliveries_hook ON event_deliveries (hook_id, id);
CREATE INDEX event_deliveries_order ON event_deliveries (hook_id, conversation_id, id)
  WHERE state IN ('queued', 'sending');
-- The worker's "none of this conversation in flight" (a redelivered
-- older row must not overtake one being sent).
CREATE INDEX event_deliveries_sending ON event_deliveries (hook_id, conversation_id)
  WHERE state = 'sending';

-- Every attempt of a delivery (GET /hooks/{id}/deliveries shows them).
CREATE TABLE event_attempts (
  id              INTEGER PRIMARY KEY,
  delivery_id     INTEGER NOT NULL REFERENCES event_deliveries (id) ON DELETE CASCADE,
  at              INTEGER NOT NULL,     -- unix milliseconds
  duration_ms     INTEGER,
  http_status     INTEGER,              -- NULL: no answer (timeout, connection refused, refused address)
  error           TEXT
);
CREATE INDEX event_attempts_delivery ON event_attempts (delivery_id, id);

-- Alerts (issue 16): conditions a person should hear of, kept as rows so
-- each is raised once, mailed once (retried when the mail server fails)
-- and shown in /alerts and the inbox.
CREATE TABLE alerts (
  id              INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL,        -- customer_waiting, token_invalid, quality_drop, number_restricted, send_failures, journal_backlog, backup_stale
  phone_number_id TEXT,                 -- the number concerned; NULL: the gateway
  conversation_id INTEGER REFERENCES conversations (id) ON DELETE CASCADE,
  user_id         INTEGER REFERENCES users (id) ON DELETE CASCADE, -- the person it is for; NULL: the admins
  episode         TEXT NOT NULL,        -- what makes it the same alert (kind, number, conversation, start): raised once
  summary         TEXT NOT NULL,        -- one line a person understands
  detail          TEXT,                 -- JSON: the figures behind it
  state           TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
  created_at      INTEGER NOT NULL,     -- unix seconds
  resolved_at     INTEGER,
  UNIQUE (episode)
);
CREATE INDEX alerts_open ON alerts (state, created_at);

-- Mails to send: one per person per batch of alerts.
CREATE TABLE alert_mails (
  id              INTEGER PRIMARY KEY,
  user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
  recipient       TEXT NOT NULL,        -- e-mail address
  subject         TEXT NOT NULL,
  body            TEXT NOT NULL,        -- text/plain, UTF-8
  alert_ids       TEXT NOT NULL,        -- JSON array of the alerts it carries
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'sent', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,     -- unix milliseconds
  last_error      TEXT,
  created_at      INTEGER NOT NULL,     -- unix milliseconds
  sent_at         INTEGER
);
CREATE INDEX alert_mails_due ON alert_mails (next_attempt_at) WHERE state = 'queued';
-- A person's newest mail: when the next may go, which alerts it carried.
CREATE INDEX alert_mails_user ON alert_mails (user_id, id);

-- migrate: 13

-- Template campaigns (issue 16): one approved template sent to a list of
-- customers, paced at the number's rate and within its messaging tier.
-- The worker moves recipients into the outbox a few at a time, each in
-- the transaction that writes its outbox row (a crash never sends one
-- recipient twice); the outbox's answers and Meta's statuses roll up
-- into the recipients' states, which the campaign's counts are made of.
CREATE TABLE campaigns (
  id              INTEGER PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64), -- wactl's handle
  phone_number_id TEXT NOT NULL,        -- the business number it sends from
  template        TEXT NOT NULL,        -- template name
  language        TEXT NOT NULL,        -- template language, e.g. en_US
  source          TEXT NOT NULL,        -- JSON: {"file":NAME} or the segment {"label":L} / {"active_days":N}
  state           TEXT NOT NULL DEFAULT 'scheduled'
                  CHECK (state IN ('scheduled', 'running', 'paused', 'cancelled', 'done')),
  start_at        INTEGER NOT NULL,     -- not before this, unix milliseconds
  wait_until      INTEGER,              -- running but waiting (the tier's window), unix ms; NULL not waiting
  wait_reason     TEXT,                 -- why it waits, a sentence; NULL not waiting
  created_by      INTEGER REFERENCES users (id) ON DELETE SET NULL, -- NULL: wactl or an API key
  created_at      INTEGER NOT NULL,     -- unix milliseconds
  updated_at      INTEGER NOT NULL,     -- unix milliseconds
  finished_at     INTEGER               -- done or cancelled, unix milliseconds
);
CREATE INDEX campaigns_active ON campaigns (state, start_at)
  WHERE state IN ('scheduled', 'running');

CREATE TABLE campaign_recipients (
  id              INTEGER PRIMARY KEY,
  campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  line            INTEGER,              -- the CSV line it came from; NULL a segment
  wa_id           TEXT NOT NULL,        -- as given (normalised when valid)
  params          TEXT NOT NULL DEFAULT '[]', -- JSON array: the template's body parameters
  state           TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'skipped', 'sent', 'delivered', 'read', 'failed')),
  reason          TEXT,                 -- skipped: opted_out, invalid_number, tier_limit, duplicate;
                                        -- failed: Meta's title or ours
  error_code      INTEGER,              -- failed: Meta's code; NULL ours
  outbox_id       INTEGER REFERENCES outbox (id) ON DELETE SET NULL, -- once handed to the outbox
  updated_at      INTEGER NOT NULL      -- unix milliseconds
);
-- The next recipients to hand over, and the counts by state.
CREATE INDEX campaign_recipients_state ON campaign_recipients (campaign_id, state, id);
CREATE INDEX campaign_recipients_outbox ON campaign_recipients (outbox_id)
  WHERE outbox_id IS NOT NULL;
