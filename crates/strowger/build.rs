//! Builds the table of spoken prompts embedded in the binary: every WAV file under
//! `assets/prompts/<language>/`, by language and name, so that a prompt added by
//! `assets/make-prompts.sh` needs no code change to ship.

use std::fmt::Write;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/prompts");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut languages: Vec<_> = std::fs::read_dir(&dir)
        .expect("assets/prompts")
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    languages.sort();
    let mut out = String::from(
        "/// Every embedded prompt: (language, name, WAV bytes).\n\
         pub(crate) const PROMPTS: &[(&str, &str, &[u8])] = &[\n",
    );
    for language in &languages {
        println!("cargo:rerun-if-changed={}", language.display());
        let lang = language
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a name");
        let mut files: Vec<_> = std::fs::read_dir(language)
            .expect("a language folder")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "wav"))
            .collect();
        files.sort();
        for file in files {
            let name = file.file_stem().and_then(|n| n.to_str()).expect("a name");
            let _ = writeln!(
                out,
                "    ({lang:?}, {name:?}, include_bytes!({:?})),",
                file.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("prompts.rs");
    std::fs::write(dest, out).expect("writing prompts.rs");
}
