-- The database and user the tests connect with; scripts/services.sh runs it as root (unix socket) after every
-- start, replacing the placeholders (names between @ signs). Idempotent.
CREATE DATABASE IF NOT EXISTS `@DB_NAME@` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '@DB_USER@'@'127.0.0.1' IDENTIFIED BY '@DB_PASSWORD@';
CREATE USER IF NOT EXISTS '@DB_USER@'@'localhost' IDENTIFIED BY '@DB_PASSWORD@';
ALTER USER '@DB_USER@'@'127.0.0.1' IDENTIFIED BY '@DB_PASSWORD@';
ALTER USER '@DB_USER@'@'localhost' IDENTIFIED BY '@DB_PASSWORD@';
GRANT ALL PRIVILEGES ON `@DB_NAME@`.* TO '@DB_USER@'@'127.0.0.1', '@DB_USER@'@'localhost';
-- Databases named <db>_<anything> too (the comparison creates a fresh one per strategy).
GRANT ALL PRIVILEGES ON `@DB_NAME@\_%`.* TO '@DB_USER@'@'127.0.0.1', '@DB_USER@'@'localhost';
GRANT PROCESS ON *.* TO '@DB_USER@'@'127.0.0.1', '@DB_USER@'@'localhost';
DROP USER IF EXISTS ''@'localhost';
FLUSH PRIVILEGES;
