//! Staff users, their roles and their login secrets.

use crate::audit::append_in;
use crate::{NewAuditEntry, Result, Store, StoreError, ms, opt_uuid, uuid};
use helsebro_domain::{Language, Role, new_id};
use jiff::Timestamp;
use sqlx::Row;
use uuid::Uuid;

/// A staff member as stored. The password hash and TOTP secret never leave the app crate.
#[derive(Debug, Clone)]
pub struct Staff {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub language: Option<Language>,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub roles: Vec<Role>,
}

/// What is needed to create a staff member.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub password_hash: String,
    pub unit_id: Option<Uuid>,
    pub roles: Vec<Role>,
}

/// The parts of a staff member an administrator can change.
#[derive(Debug, Clone)]
pub struct StaffChange {
    pub display_name: String,
    pub email: String,
    pub unit_id: Option<Uuid>,
    pub active: bool,
    pub roles: Vec<Role>,
}

const STAFF_COLUMNS: &str = "id, username, display_name, email, password_hash, totp_secret, \
     totp_last_step, language, unit_id, active";

impl Store {
    /// Creates a staff member. `audit` (if any) is written in the same transaction, with the
    /// new id as its object.
    pub async fn create_staff(
        &self,
        new: &NewStaff,
        audit: Option<&NewAuditEntry>,
        now: Timestamp,
    ) -> Result<Uuid> {
        let id = new_id();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO staff (id, username, display_name, email, password_hash, unit_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
        )
        .bind(id.to_string())
        .bind(&new.username)
        .bind(&new.display_name)
        .bind(&new.email)
        .bind(&new.password_hash)
        .bind(new.unit_id.map(|u| u.to_string()))
        .bind(ms(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| StoreError::conflict_or(e, "a user with that username"))?;
        for role in &new.roles {
            sqlx::query("INSERT INTO staff_roles (staff_id, role) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(role.code())
                .execute(&mut *tx)
                .await?;
        }
        if let Some(audit) = audit {
            let audit = NewAuditEntry {
                object: format!("staff:{id}"),
                ..audit.clone()
            };
            append_in(&mut tx, &audit, now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    pub async fn staff_by_username(&self, username: &str) -> Result<Option<Staff>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE username = $1");
        let row = sqlx::query(&sql)
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.staff_with_roles(&r).await?)),
            None => Ok(None),
        }
    }

    pub async fn staff_by_id(&self, id: Uuid) -> Result<Option<Staff>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.staff_with_roles(&r).await?)),
            None => Ok(None),
        }
    }

    /// All staff, ordered by name.
    pub async fn all_staff(&self) -> Result<Vec<Staff>> {
        let sql = format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY display_name, username");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        let role_rows = sqlx::query("SELECT staff_id, role FROM staff_roles")
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut s = staff_from_row(r)?;
            let id = s.id.to_string();
            s.roles = role_rows
                .iter()
                .filter(|rr| {
                    rr.try_get::<String, _>("staff_id")
                        .is_ok_and(|sid| sid == id)
                })
                .filter_map(|rr| {
                    rr.try_get::<String, _>("role")
                        .ok()
                        .and_then(|c| Role::parse(&c))
                })
                .collect();
            s.roles.sort();
            out.push(s);
        }
        Ok(out)
    }

    /// Whether any active staff member holds `role`.
    pub async fn any_staff_with_role(&self, role: Role) -> Result<bool> {
        let row = sqlx::query(
            "SELECT s.id FROM staff s JOIN staff_roles r ON r.staff_id = s.id \
             WHERE r.role = $1 AND s.active = 1 LIMIT 1",
        )
        .bind(role.code())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Replaces a staff member's details and roles. Returns false if the id is unknown.
    pub async fn update_staff(
        &self,
        id: Uuid,
        change: &StaffChange,
        audit: &NewAuditEntry,
        now: Timestamp,
    ) -> Result<bool> {
        let StaffChange {
            display_name,
            email,
            unit_id,
            active,
            roles,
        } = change;
        let (unit_id, active) = (*unit_id, *active);
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE staff SET display_name = $1, email = $2, unit_id = $3, active = $4 WHERE id = $5",
        )
        .bind(display_name)
        .bind(email)
        .bind(unit_id.map(|u| u.to_string()))
        .bind(i64::from(active))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM staff_roles WHERE staff_id = $1")
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        for role in roles {
            sqlx::query("INSERT INTO staff_roles (staff_id, role) VALUES ($1, $2)")
                .bind(id.to_string())
                .bind(role.code())
                .execute(&mut *tx)
                .await?;
        }
        if !active {
            sqlx::query("DELETE FROM sessions WHERE staff_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
        }
        append_in(&mut tx, audit, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn set_password_hash(&self, id: Uuid, hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_staff_language(&self, id: Uuid, language: Language) -> Result<()> {
        sqlx::query("UPDATE staff SET language = $1 WHERE id = $2")
            .bind(language.code())
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a verified TOTP secret (enrolment done), or removes it (`None`: reset).
    pub async fn set_totp_secret(&self, id: Uuid, secret: Option<&str>, step: i64) -> Result<()> {
        sqlx::query("UPDATE staff SET totp_secret = $1, totp_last_step = $2 WHERE id = $3")
            .bind(secret)
            .bind(step)
            .bind(id.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the time step of an accepted TOTP code, only if it is newer than the last one.
    /// Returns false when the step was already used: a replayed code.
    pub async fn claim_totp_step(&self, id: Uuid, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn staff_with_roles(&self, r: &sqlx::any::AnyRow) -> Result<Staff> {
        let mut s = staff_from_row(r)?;
        let rows = sqlx::query("SELECT role FROM staff_roles WHERE staff_id = $1")
            .bind(s.id.to_string())
            .fetch_all(&self.pool)
            .await?;
        s.roles = rows
            .iter()
            .filter_map(|r| {
                r.try_get::<String, _>("role")
                    .ok()
                    .and_then(|c| Role::parse(&c))
            })
            .collect();
        s.roles.sort();
        Ok(s)
    }
}

fn staff_from_row(r: &sqlx::any::AnyRow) -> Result<Staff> {
    Ok(Staff {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        totp_secret: r.try_get("totp_secret")?,
        totp_last_step: r.try_get("totp_last_step")?,
        language: r
            .try_get::<Option<String>, _>("language")?
            .and_then(|c| Language::parse(&c)),
        unit_id: opt_uuid(r.try_get("unit_id")?)?,
        active: r.try_get::<i64, _>("active")? != 0,
        roles: Vec::new(),
    })
}
