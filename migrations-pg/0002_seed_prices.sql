-- Seed price catalog (the same rows as the SQLite migrations/0001_seed_prices.sql): Nscale serverless prices in micro-USD per 1M tokens (0.03 USD = 30000).
-- Source: the table "Published prices" in docs/nscale.md, collected from public
-- provider docs (Nscale's own price page is behind a login). Rows are effective from the epoch
-- with source 'seed', so any 'sync' row (prices-sync job, GET /v1/models pricing) or 'admin' row
-- (POST /api/prices) for the same model takes precedence from its own effective_from on.
INSERT INTO "prices" ("model", "input_micro_per_mtok", "output_micro_per_mtok", "currency", "effective_from", "source", "created_at") VALUES
  ('meta-llama/Llama-3.1-8B-Instruct', 30000, 30000, 'USD', 0, 'seed', 0),
  ('meta-llama/Llama-3.3-70B-Instruct', 200000, 200000, 'USD', 0, 'seed', 0),
  ('meta-llama/Llama-4-Scout-17B-16E-Instruct', 90000, 290000, 'USD', 0, 'seed', 0),
  ('Qwen/Qwen2.5-Coder-3B-Instruct', 10000, 30000, 'USD', 0, 'seed', 0),
  ('Qwen/Qwen2.5-Coder-7B-Instruct', 10000, 30000, 'USD', 0, 'seed', 0),
  ('Qwen/Qwen2.5-Coder-32B-Instruct', 60000, 200000, 'USD', 0, 'seed', 0),
  ('Qwen/QwQ-32B', 180000, 200000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Llama-70B', 375000, 375000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Llama-8B', 25000, 25000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B', 90000, 90000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Qwen-7B', 200000, 200000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Qwen-14B', 70000, 70000, 'USD', 0, 'seed', 0),
  ('deepseek-ai/DeepSeek-R1-Distill-Qwen-32B', 150000, 150000, 'USD', 0, 'seed', 0),
  ('mistralai/Mixtral-8x22B-Instruct-v0.1', 600000, 600000, 'USD', 0, 'seed', 0);
