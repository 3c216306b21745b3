-- Text search over error messages (GET /api/requests?q=, the request explorer's search box)
-- through an FTS5 index, so a search seeks the calls that contain the text instead of reading
-- every call with LIKE '%…%' (6 s for an unmatched word at 10M calls). Hand-written because
-- Drizzle cannot declare virtual tables or triggers (drizzle-kit generate --custom); the
-- snapshot, and so the schema diff, is unchanged.
--
-- The trigram tokenizer: `q` has always meant "this text anywhere in the message, any case", and
-- trigrams keep that meaning for 3 characters or more (a phrase of consecutive trigrams is a
-- substring), where a word tokenizer would stop `time` from finding `timeout` and `ms` from
-- finding `100ms`. server/requests/text-search.ts handles shorter text.
--
-- Contentless (the text stays in calls.error_message; the index holds only postings), rowid =
-- calls.id, with contentless_delete so a row is removed by its rowid alone: an external-content
-- index must be handed the exact text it indexed to remove a row, and is corrupted when a call
-- it never indexed (a row written around the recorder) is deleted; here that is a no-op.
-- Only calls with a message are indexed: the failed ones, ~3 %.
CREATE VIRTUAL TABLE `calls_error_fts` USING fts5(`error_message`, content='', contentless_delete=1, tokenize='trigram');
--> statement-breakpoint
-- Backfill: every message already stored, in one pass over calls.
INSERT INTO `calls_error_fts` (`rowid`, `error_message`) SELECT `id`, `error_message` FROM `calls` WHERE `error_message` IS NOT NULL;
--> statement-breakpoint
-- New calls are indexed by the recorder's insert (server/recorder/insert-statements.ts), not by
-- a trigger: any AFTER INSERT trigger on calls, even one whose WHEN is false for every row,
-- halved the rate of the recorder's single-row INSERTs. Deletes (retention, in chunks) and
-- updates are rare, so triggers keep the index right whoever deletes.
CREATE TRIGGER `calls_error_fts_delete` AFTER DELETE ON `calls` WHEN old.`error_message` IS NOT NULL BEGIN
  DELETE FROM `calls_error_fts` WHERE `rowid` = old.`id`;
END;
--> statement-breakpoint
CREATE TRIGGER `calls_error_fts_update` AFTER UPDATE OF `id`, `error_message` ON `calls`
WHEN old.`error_message` IS NOT new.`error_message` OR old.`id` IS NOT new.`id` BEGIN
  DELETE FROM `calls_error_fts` WHERE `rowid` = old.`id`;
  INSERT INTO `calls_error_fts` (`rowid`, `error_message`) SELECT new.`id`, new.`error_message` WHERE new.`error_message` IS NOT NULL;
END;
