//! Report files a run leaves in its copy of the repository (JUnit XML from Surefire, Gradle,
//! jest-junit…), read after its command and before the copy is removed. A run names them by a
//! glob relative to the repository root (`target/surefire-reports/*.xml`); only the folder
//! before the glob's first wildcard is searched, so a glob that starts with its folder is cheap
//! and `**/…` reads the whole tree.

use std::io::Read;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};

/// One report file: its path relative to the repository root, and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    pub path: String,
    pub text: String,
}

/// A compiled report glob: `*` stays within one folder, `**` crosses folders.
#[derive(Debug)]
pub struct ReportGlob {
    matcher: GlobMatcher,
    base: String,
}

impl ReportGlob {
    pub fn new(glob: &str) -> Result<ReportGlob, String> {
        let glob = glob.trim().trim_start_matches("./");
        if glob.starts_with('/') || glob.split('/').any(|part| part == "..") {
            return Err(format!(
                "failed to read the report glob `{glob}`: it must stay inside the repository (a relative path such as `target/surefire-reports/*.xml`)"
            ));
        }
        let matcher = GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("failed to read the report glob `{glob}`: {e}"))?
            .compile_matcher();
        let base = glob
            .split('/')
            .take_while(|part| !part.contains(['*', '?', '[', '{']))
            .collect::<Vec<_>>();
        // The last literal part is the file name itself when the glob has no wildcard.
        let literal_parts = if base.len() == glob.split('/').count() {
            base.len() - 1
        } else {
            base.len()
        };
        Ok(ReportGlob {
            matcher,
            base: base[..literal_parts].join("/"),
        })
    }

    /// The folder, relative to the root, that holds every match (`""` for the root).
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn is_match(&self, relative: &str) -> bool {
        self.matcher.is_match(relative)
    }
}

/// Reads the matching files under `root` (the run's copy), at most `limit` bytes in all: a
/// runaway report must not fill memory. Links are not followed, so nothing outside the copy is
/// read.
pub fn collect_local(root: &Path, glob: &ReportGlob, limit: usize) -> (Vec<ReportFile>, bool) {
    let mut found = Vec::new();
    let mut truncated = false;
    let mut budget = limit;
    let start = if glob.base().is_empty() {
        root.to_path_buf()
    } else {
        root.join(glob.base())
    };
    let mut stack = vec![start];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
                continue;
            }
            let Some(relative) = relative_text(root, &path) else {
                continue;
            };
            if !kind.is_file() || !glob.is_match(&relative) {
                continue;
            }
            let Ok(file) = std::fs::File::open(&path) else {
                continue;
            };
            if !take(&mut found, relative, file, &mut budget) {
                truncated = true;
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    (found, truncated)
}

/// Reads the matching files out of a tar archive of the folder `glob.base()` as the Docker
/// engine sends it (its entries start with that folder's own name).
pub fn collect_tar(archive: &[u8], glob: &ReportGlob, limit: usize) -> (Vec<ReportFile>, bool) {
    let mut found = Vec::new();
    let mut truncated = false;
    let mut budget = limit;
    // The archive names the base folder by its last part; its parent is what comes before.
    let parent = match glob.base().rsplit_once('/') {
        Some((parent, _)) => format!("{parent}/"),
        None => String::new(),
    };
    let mut tar = tar::Archive::new(archive);
    let Ok(entries) = tar.entries() else {
        return (found, truncated);
    };
    for entry in entries.flatten() {
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let Ok(path) = entry.path() else {
            continue;
        };
        let in_archive = path.to_string_lossy().trim_start_matches("./").to_owned();
        let relative = if glob.base().is_empty() {
            // The root folder comes as `testbed/…`: drop its name.
            match in_archive.split_once('/') {
                Some((_, rest)) => rest.to_owned(),
                None => continue,
            }
        } else {
            format!("{parent}{in_archive}")
        };
        if glob.is_match(&relative) && !take(&mut found, relative, entry, &mut budget) {
            truncated = true;
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    (found, truncated)
}

/// Keeps one file if it fits the budget; `false` when it did not.
fn take(found: &mut Vec<ReportFile>, path: String, reader: impl Read, budget: &mut usize) -> bool {
    let mut bytes = Vec::new();
    let room = (*budget as u64).saturating_add(1);
    if reader.take(room).read_to_end(&mut bytes).is_err() || bytes.len() > *budget {
        return false;
    }
    *budget -= bytes.len();
    found.push(ReportFile {
        path,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    });
    true
}

fn relative_text(root: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn paths(found: &[ReportFile]) -> Vec<&str> {
        found.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn the_search_starts_at_the_glob_s_folder() {
        assert_eq!(
            ReportGlob::new("target/surefire-reports/*.xml")
                .unwrap()
                .base(),
            "target/surefire-reports"
        );
        assert_eq!(
            ReportGlob::new("./reports/junit.xml").unwrap().base(),
            "reports"
        );
        assert_eq!(ReportGlob::new("junit.xml").unwrap().base(), "");
        assert_eq!(ReportGlob::new("**/TEST-*.xml").unwrap().base(), "");
        assert_eq!(
            ReportGlob::new("build/test-results/{test,it}/*.xml")
                .unwrap()
                .base(),
            "build/test-results"
        );
        for bad in ["/etc/*.xml", "../x/*.xml", "a/[b"] {
            assert!(
                ReportGlob::new(bad)
                    .unwrap_err()
                    .starts_with("failed to read the report glob"),
                "{bad}"
            );
        }
    }

    #[test]
    fn local_files_matching_the_glob_are_read() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "target/surefire-reports/TEST-a.xml", "<a/>");
        write(root.path(), "target/surefire-reports/TEST-b.xml", "<b/>");
        write(root.path(), "target/surefire-reports/a.txt", "no");
        write(
            root.path(),
            "target/surefire-reports/deeper/TEST-c.xml",
            "no",
        );
        write(root.path(), "m/target/surefire-reports/TEST-d.xml", "<d/>");
        let one = ReportGlob::new("target/surefire-reports/*.xml").unwrap();
        let (found, truncated) = collect_local(root.path(), &one, 1 << 20);
        assert!(!truncated);
        assert_eq!(
            paths(&found),
            [
                "target/surefire-reports/TEST-a.xml",
                "target/surefire-reports/TEST-b.xml"
            ]
        );
        assert_eq!(found[0].text, "<a/>");
        let any = ReportGlob::new("**/TEST-*.xml").unwrap();
        let (found, _) = collect_local(root.path(), &any, 1 << 20);
        assert_eq!(paths(&found).len(), 4);
        let missing = ReportGlob::new("build/test-results/test/*.xml").unwrap();
        assert!(collect_local(root.path(), &missing, 1 << 20).0.is_empty());
    }

    #[test]
    fn reports_past_the_limit_are_left_out_and_said_so() {
        let root = tempfile::tempdir().unwrap();
        write(root.path(), "r/a.xml", "12345");
        write(root.path(), "r/b.xml", "123456");
        let glob = ReportGlob::new("r/*.xml").unwrap();
        let (found, truncated) = collect_local(root.path(), &glob, 10);
        assert_eq!(paths(&found), ["r/a.xml"]);
        assert!(truncated);
    }

    fn archive(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, text) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder
                .append_data(&mut header, path, text.as_bytes())
                .unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn a_container_s_folder_archive_is_read_back_to_repository_paths() {
        let glob = ReportGlob::new("target/surefire-reports/*.xml").unwrap();
        let tar = archive(&[
            ("surefire-reports/TEST-a.xml", "<a/>"),
            ("surefire-reports/a.txt", "no"),
        ]);
        let (found, _) = collect_tar(&tar, &glob, 1 << 20);
        assert_eq!(paths(&found), ["target/surefire-reports/TEST-a.xml"]);
        let at_root = ReportGlob::new("*.xml").unwrap();
        let tar = archive(&[("testbed/junit.xml", "<j/>"), ("testbed/sub/x.xml", "no")]);
        let (found, _) = collect_tar(&tar, &at_root, 1 << 20);
        assert_eq!(paths(&found), ["junit.xml"]);
        assert_eq!(found[0].text, "<j/>");
    }
}
