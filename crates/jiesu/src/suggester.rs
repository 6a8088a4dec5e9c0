//! The category suggester `jiesu serve` runs: the shipped model and label map, or a district's own
//! files (the library crate stays free of file and environment access; the binary reads them).

use std::path::{Path, PathBuf};

use jiesu_domain::catalog::Catalog;
use jiesu_intake::classify::Classifier;
use jiesu_intake::suggest::{LabelMap, Suggester};

/// A suggester from files: a model file (default: the shipped model) and a label map (default: the
/// shipped map), checked against `catalog`. Errors name the file and every problem.
pub fn from_files(model: Option<&Path>, label_map: Option<&Path>, catalog: &Catalog) -> Result<Suggester, String> {
    let clf = match model {
        None => Classifier::shipped(),
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Classifier::load(&bytes).map_err(|e| format!("{}: {e}", p.display()))?
        }
    };
    let map = match label_map {
        None => LabelMap::shipped(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            LabelMap::parse(&text, &p.display().to_string()).map_err(|e| e.to_string())?
        }
    };
    Suggester::new(clf, map, catalog).map_err(|e| {
        let names =
            [model, label_map].iter().flatten().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" with ");
        format!("{names}: {}", e.problems.join("; "))
    })
}

/// [`from_files`] with the paths in the environment variables `JIESU_CLASSIFIER_MODEL` and
/// `JIESU_LABEL_MAP` (each optional): how a server is pointed at a district's own model without
/// rebuilding.
pub fn from_env(catalog: &Catalog) -> Result<Suggester, String> {
    let model = std::env::var_os("JIESU_CLASSIFIER_MODEL").map(PathBuf::from);
    let map = std::env::var_os("JIESU_LABEL_MAP").map(PathBuf::from);
    from_files(model.as_deref(), map.as_deref(), catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_files_checks_the_pair() {
        let dir = tempfile::tempdir().unwrap();
        let map = dir.path().join("map.csv");
        std::fs::write(&map, "label,top_categories,unit_kind\n城乡建设,03,street\n").unwrap();
        let e = from_files(None, Some(&map), &Catalog::dongcheng()).unwrap_err();
        assert!(e.contains("map.csv") && e.contains("教育文体 is not mapped"), "{e}");
        let model = dir.path().join("none.bin");
        let e = from_files(Some(&model), None, &Catalog::dongcheng()).unwrap_err();
        assert!(e.contains("none.bin"), "{e}");
        let s = from_files(None, None, &Catalog::dongcheng()).unwrap();
        assert_eq!(s.classifier().labels().len(), 7);
    }
}
