-- Per-organisation notification settings (NT-1): which reminders go out, at what local time,
-- and whether messages may name the service area.
ALTER TABLE organisation ADD COLUMN reminder_ten_days BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organisation ADD COLUMN reminder_day_before BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organisation ADD COLUMN reminder_time TEXT NOT NULL DEFAULT '12:00';
ALTER TABLE organisation ADD COLUMN name_service_area BIGINT NOT NULL DEFAULT 0;
