//! A city's catalog as deployment data: the catalog files a store carries (by name, as text),
//! read back into a [`Catalog`], its working-day [`Calendar`] and its time zone.
//!
//! The files are those of [`CatalogFiles`] plus `holidays.csv` (the calendar's exceptions, see
//! [`crate::calendar`]) and `district.csv` (`code,name,time_zone`: one row naming the city and
//! the IANA time zone its days and months are cut in). A store without files uses the embedded
//! Dongcheng catalog, China's holidays and Asia/Shanghai.

use chrono_tz::Tz;

use super::{
    CATEGORIES_FILE, COMMUNITIES_FILE, Catalog, CatalogError, CatalogFiles, RESPONSIBILITY_FILE, STREETS_FILE,
    UNITS_FILE, invalid, read_table,
};
use crate::calendar::Calendar;

/// Name of the calendar file among a stored catalog's files.
pub const HOLIDAYS_FILE: &str = "holidays.csv";
/// Name of the district file (`code,name,time_zone`) among a stored catalog's files.
pub const DISTRICT_FILE: &str = "district.csv";

/// A catalog read from a store's files: the catalog, its calendar and its time zone.
#[derive(Debug, Clone)]
pub struct StoredCatalog {
    /// Units, areas, categories, responsibility list; district code and name.
    pub catalog: Catalog,
    /// The working-day calendar of the city's holidays.
    pub calendar: Calendar,
    /// The city's time zone.
    pub tz: Tz,
}

impl StoredCatalog {
    /// Reads the files (`(name, text)`), each required, checked against each other as
    /// [`Catalog::from_files`] does. A missing file is named with the files found.
    pub fn from_files(files: &[(String, String)]) -> Result<StoredCatalog, CatalogError> {
        let get = |name: &'static str| {
            files.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()).ok_or_else(|| {
                let found: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
                invalid(name, format!("missing from the stored catalog (found: {})", found.join(", ")))
            })
        };
        let catalog = Catalog::from_files(CatalogFiles {
            streets: get(STREETS_FILE)?,
            communities: get(COMMUNITIES_FILE)?,
            units: get(UNITS_FILE)?,
            categories: get(CATEGORIES_FILE)?,
            responsibility: get(RESPONSIBILITY_FILE)?,
        })?;
        let calendar = Calendar::from_csv(get(HOLIDAYS_FILE)?).map_err(|e| invalid(HOLIDAYS_FILE, e.to_string()))?;
        let rows = read_table(DISTRICT_FILE, get(DISTRICT_FILE)?, &["code", "name", "time_zone"])?;
        let row = &rows[0];
        if rows.len() > 1 {
            return Err(rows[1].error("one row only: the district's code, name and time zone"));
        }
        let tz_name = row.required(2, "time_zone")?;
        let tz: Tz = tz_name.parse().map_err(|_| row.error(format!("unknown time zone '{tz_name}'")))?;
        let catalog = catalog.with_district(row.code(0, "code")?, row.required(1, "name")?);
        Ok(StoredCatalog { catalog, calendar, tz })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(district: &str) -> Vec<(String, String)> {
        let d = CatalogFiles::DONGCHENG;
        [
            (STREETS_FILE, d.streets),
            (COMMUNITIES_FILE, d.communities),
            (UNITS_FILE, d.units),
            (CATEGORIES_FILE, d.categories),
            (RESPONSIBILITY_FILE, d.responsibility),
            (HOLIDAYS_FILE, "date,kind,name\n2015-07-03,off,Independence Day\n"),
            (DISTRICT_FILE, district),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect()
    }

    #[test]
    fn reads_the_files_and_names_what_is_wrong() {
        let s = StoredCatalog::from_files(&files("code,name,time_zone\nboston,Boston,America/New_York\n")).unwrap();
        assert_eq!((s.catalog.district_code(), s.catalog.district_name()), ("boston", "Boston"));
        assert_eq!(s.tz, chrono_tz::America::New_York);
        assert!(s.calendar.covers(2015) && !s.calendar.covers(2016));

        let e = StoredCatalog::from_files(&files("code,name,time_zone\nx,X,Mars/Olympus\n")).unwrap_err();
        assert_eq!(e.to_string(), "district.csv, line 2: unknown time zone 'Mars/Olympus'");
        let mut missing = files("code,name,time_zone\nx,X,UTC\n");
        missing.retain(|(n, _)| n != HOLIDAYS_FILE);
        let e = StoredCatalog::from_files(&missing).unwrap_err().to_string();
        assert!(e.starts_with("holidays.csv: missing from the stored catalog (found: streets.csv"), "{e}");
    }
}
