//! The network's map: each cell the mapping rules verified, as of its
//! latest verification, written with the epoch that verified it and read by
//! the map service (`crate::map`) by cell or by bounding box.

use super::{Backend, Store, StoreError, push_values};
use crate::verifier::{geo, mapping::MappedCell};
use depinkit_reports::Hash32;
use sqlx::Row;

/// A cell of the map as kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapCell {
    /// The H3 cell.
    pub cell: u64,
    /// Its center, 1e-7 degrees.
    pub lat_e7: i32,
    /// Its center, 1e-7 degrees.
    pub lon_e7: i32,
    /// Its latest verification, unix milliseconds.
    pub verified_ms: i64,
    /// The epoch of that verification.
    pub epoch: u64,
    /// Devices that mapped it in that epoch.
    pub devices: u32,
    /// Its freshness value then.
    pub value: u64,
    /// The report of its latest fix.
    pub report: Hash32,
}

/// Writes `cells` as verified in `epoch`, keeping for each cell its latest
/// verification.
pub(super) async fn write_map_cells(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    epoch: i64,
    cells: &[MappedCell],
) -> Result<(), StoreError> {
    for chunk in cells.chunks(super::INSERT_ROWS) {
        let mut sql = String::from(
            "INSERT INTO map_cells \
             (cell, lat_e7, lon_e7, verified_ms, epoch, devices, value, report) VALUES ",
        );
        push_values(&mut sql, backend, chunk.len(), 8);
        sql.push_str(
            " ON CONFLICT (cell) DO UPDATE SET verified_ms = excluded.verified_ms, \
             epoch = excluded.epoch, devices = excluded.devices, value = excluded.value, \
             report = excluded.report WHERE map_cells.verified_ms < excluded.verified_ms",
        );
        let mut query = sqlx::query(&sql);
        for cell in chunk {
            let (lat, lon) = h3o::CellIndex::try_from(cell.cell)
                .map(geo::center_e7)
                .unwrap_or((0, 0));
            query = query
                .bind(cell.cell as i64)
                .bind(i64::from(lat))
                .bind(i64::from(lon))
                .bind(cell.verified_ms)
                .bind(epoch)
                .bind(i64::from(cell.devices))
                .bind(cell.value as i64)
                .bind(cell.latest_report.0.to_vec());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

const COLUMNS: &str = "cell, lat_e7, lon_e7, verified_ms, epoch, devices, value, report";

fn map_cell(row: &sqlx::any::AnyRow) -> Result<MapCell, StoreError> {
    let report: [u8; 32] = row
        .try_get::<Vec<u8>, _>("report")?
        .try_into()
        .map_err(|_| StoreError::Corrupt("map cell report".into()))?;
    let cell: i64 = row.try_get("cell")?;
    let lat: i64 = row.try_get("lat_e7")?;
    let lon: i64 = row.try_get("lon_e7")?;
    let epoch: i64 = row.try_get("epoch")?;
    let devices: i64 = row.try_get("devices")?;
    let value: i64 = row.try_get("value")?;
    Ok(MapCell {
        cell: cell as u64,
        lat_e7: lat as i32,
        lon_e7: lon as i32,
        verified_ms: row.try_get("verified_ms")?,
        epoch: epoch as u64,
        devices: devices as u32,
        value: value as u64,
        report: Hash32(report),
    })
}

impl Store {
    /// Writes `cells` as verified in `epoch` on their own (scoring writes
    /// them with the epoch's result, in its transaction).
    pub async fn record_map_cells(
        &self,
        epoch: u64,
        cells: &[MappedCell],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        write_map_cells(&mut tx, self.backend, super::to_i64(epoch)?, cells).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The mapped cells among `cells`, in cell order.
    pub async fn map_cells(&self, cells: &[u64]) -> Result<Vec<MapCell>, StoreError> {
        let mut found = Vec::new();
        for chunk in cells.chunks(super::INSERT_ROWS) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM map_cells WHERE cell IN ({}) ORDER BY cell",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for cell in chunk {
                query = query.bind(*cell as i64);
            }
            for row in query.fetch_all(&self.pool).await? {
                found.push(map_cell(&row)?);
            }
        }
        found.sort_by_key(|c| c.cell);
        Ok(found)
    }

    /// The mapped cells whose centers lie in the box (1e-7 degrees, edges
    /// included), at most `limit`, by latitude then longitude.
    pub async fn map_cells_in_box(
        &self,
        (min_lat, min_lon): (i32, i32),
        (max_lat, max_lon): (i32, i32),
        limit: u32,
    ) -> Result<Vec<MapCell>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM map_cells WHERE lat_e7 >= $1 AND lat_e7 <= $2 \
             AND lon_e7 >= $3 AND lon_e7 <= $4 ORDER BY lat_e7, lon_e7, cell LIMIT $5"
        );
        let rows = sqlx::query(&sql)
            .bind(i64::from(min_lat))
            .bind(i64::from(max_lat))
            .bind(i64::from(min_lon))
            .bind(i64::from(max_lon))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(map_cell).collect()
    }

    /// How many cells the map holds.
    pub async fn map_cell_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM map_cells")
            .fetch_one(&self.pool)
            .await?;
        Ok(count as u64)
    }
}
