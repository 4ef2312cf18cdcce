-- A campaign's progress (its commands counted per state) was read from a covering index on
-- (campaign_id, state), which every DM message had to change for each command it sent or got
-- an answer for (an entry deleted and another inserted: 5% of the server's instructions under
-- load, issue 7). An index on campaign_id alone never changes after the command is queued; the
-- progress read then counts the campaign's rows themselves, which were queued together and lie
-- side by side (400,000 commands: 130 ms instead of 25 ms, docs/performance.md, sixth pass).
DROP INDEX commands_campaign_state;
CREATE INDEX commands_campaign ON commands (campaign_id);
