//! Full-text search over cases' titles and texts, indexed on both backends.
//!
//! Most Chinese words are two characters (占道, 噪音, 停车), so a trigram index cannot serve them.
//! Each case is indexed by the distinct characters and character pairs of its normalised title
//! and text (letters and digits only, lower-cased): a query of one character looks up that
//! character; a longer one looks up all its pairs, and the candidates are then checked for the
//! query itself (`LIKE`, `%` and `_` literal), so the index only narrows and never decides.
//! Because normalisation drops characters one by one, a query that occurs in a text has all its
//! pairs among the text's pairs: the index never misses a case (tested with random strings).
//!
//! * SQLite: a contentless FTS5 table `case_fts` (rowid = case id, `detail=none`: no positions),
//!   filled by a background indexer that follows the single writer's ids in order
//!   (`meta.search_indexed_to`; `jiesu serve` runs it, `Store::index_pending` catches up at once); cases above that mark are found by `LIKE`, so a case is
//!   searchable the moment it is written, and intake never waits for the index.
//! * PostgreSQL: `case_terms` (one `TEXT[]` per case, GIN-indexed, `@>`), written in the same
//!   transaction as the case (ids from a sequence commit out of order, so a mark would skip some).

use std::collections::BTreeSet;
use std::time::Duration;

use sqlx::{Any, AnyPool, AssertSqlSafe, Row};

use crate::{Backend, StoreError};

/// How many cases one indexing round takes.
const BATCH: i64 = 500;

/// The characters that count: letters and digits, lower-cased (everything else is dropped, on
/// both sides, so a query still matches across punctuation and spaces).
fn normalised(text: &str) -> Vec<char> {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).filter(|c| c.is_alphanumeric()).collect()
}

/// The terms a case is indexed by: each distinct character and character pair of its title and
/// text (each normalised on its own, so no pair spans the two).
pub(crate) fn terms(title: &str, text: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    for part in [title, text] {
        let chars = normalised(part);
        for (i, c) in chars.iter().enumerate() {
            out.insert(c.to_string());
            if let Some(d) = chars.get(i + 1) {
                out.insert(format!("{c}{d}"));
            }
        }
    }
    out.into_iter().collect()
}

/// The terms a query looks up: its one character, or its distinct character pairs. Empty when
/// the query has no letter or digit (then only `LIKE` can serve it).
pub(crate) fn query_terms(query: &str) -> Vec<String> {
    let chars = normalised(query);
    if chars.len() == 1 {
        return vec![chars[0].to_string()];
    }
    let pairs: BTreeSet<String> = chars.windows(2).map(|w| format!("{}{}", w[0], w[1])).collect();
    pairs.into_iter().collect()
}

/// The FTS5 query for `terms`: every term, quoted (terms are letters and digits only).
pub(crate) fn fts_match(terms: &[String]) -> String {
    terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" AND ")
}

/// Terms as stored on PostgreSQL and bound in queries: space-separated (terms have no spaces).
pub(crate) fn joined(terms: &[String]) -> String {
    terms.join(" ")
}

/// The condition (with one `?`, bound to the query's terms) that narrows a search to indexed
/// candidates on `backend`; `LIKE` then checks each candidate.
pub(crate) fn candidates_condition(backend: Backend) -> &'static str {
    match backend {
        // One IN list (the index's hits, then the cases above its mark), not an OR of the two:
        // with the OR, SQLite scans every case in id order for the newest page, all of them
        // when a word is rare (0.5 s on a million cases); the list is walked in id order instead.
        Backend::Sqlite => {
            "id IN (SELECT rowid FROM case_fts WHERE case_fts MATCH ? \
              UNION ALL SELECT id FROM cases WHERE id > \
              (SELECT CAST(value AS BIGINT) FROM meta WHERE name = 'search_indexed_to'))"
        }
        Backend::Postgres => "id IN (SELECT case_id FROM case_terms WHERE terms @> string_to_array(?, ' '))",
    }
}

/// The argument bound to [`candidates_condition`].
pub(crate) fn candidates_arg(backend: Backend, terms: &[String]) -> String {
    match backend {
        Backend::Sqlite => fts_match(terms),
        Backend::Postgres => joined(terms),
    }
}

/// Indexes the next cases above the mark (SQLite); returns how many. Safe to run concurrently
/// with itself: the mark moves only from the value read, in the same transaction.
pub(crate) async fn index_next(writer: &AnyPool) -> Result<usize, StoreError> {
    let mark: i64 = sqlx::query_scalar("SELECT CAST(value AS BIGINT) FROM meta WHERE name = 'search_indexed_to'")
        .fetch_one(writer)
        .await?;
    let rows = sqlx::query("SELECT id, title, body FROM cases WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(mark)
        .bind(BATCH)
        .fetch_all(writer)
        .await?;
    let Some(last) = rows.last() else { return Ok(0) };
    let last: i64 = last.try_get("id")?;
    let mut tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    for r in &rows {
        let (title, body): (String, String) = (r.try_get("title")?, r.try_get("body")?);
        sqlx::query("INSERT INTO case_fts (rowid, terms) VALUES ($1, $2)")
            .bind(r.try_get::<i64, _>("id")?)
            .bind(joined(&terms(&title, &body)))
            .execute(&mut *tx)
            .await?;
    }
    let moved = sqlx::query("UPDATE meta SET value = $1 WHERE name = 'search_indexed_to' AND value = $2")
        .bind(last.to_string())
        .bind(mark.to_string())
        .execute(&mut *tx)
        .await?;
    if moved.rows_affected() == 1 {
        tx.commit().await?;
        Ok(rows.len())
    } else {
        // Another indexer took these cases first.
        tx.rollback().await?;
        Ok(0)
    }
}

/// Follows the writer on SQLite: indexes new cases as they come, idles when there are none, and
/// stops when the store is closed.
pub(crate) fn spawn_indexer(writer: AnyPool) {
    tokio::spawn(async move {
        loop {
            match index_next(&writer).await {
                Ok(n) if n as i64 == BATCH => continue,
                Ok(_) => tokio::time::sleep(Duration::from_millis(250)).await,
                Err(_) if writer.is_closed() => return,
                Err(e) => {
                    tracing::warn!("search indexer: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
}

/// Writes the terms (`joined`) of new cases `ids` inside their bulk transaction, many rows per
/// statement: always on PostgreSQL; on SQLite only when every case before them is indexed (the
/// mark is just below the first), moving the mark past them; otherwise the indexer takes them.
pub(crate) async fn insert_terms_bulk(
    tx: &mut sqlx::Transaction<'_, Any>,
    backend: Backend,
    ids: &[i64],
    terms: &[String],
) -> Result<(), StoreError> {
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else { return Ok(()) };
    // The statement's head, and the function that turns the joined terms into the column's value.
    let (head, terms_of) = match backend {
        Backend::Sqlite => {
            let mark: i64 =
                sqlx::query_scalar("SELECT CAST(value AS BIGINT) FROM meta WHERE name = 'search_indexed_to'")
                    .fetch_one(&mut **tx)
                    .await?;
            if mark != first - 1 {
                return Ok(());
            }
            sqlx::query("UPDATE meta SET value = $1 WHERE name = 'search_indexed_to'")
                .bind(last.to_string())
                .execute(&mut **tx)
                .await?;
            ("INSERT INTO case_fts (rowid, terms) VALUES ", None)
        }
        Backend::Postgres => ("INSERT INTO case_terms (case_id, terms) VALUES ", Some("string_to_array")),
    };
    for (ids, terms) in ids.chunks(BULK_ROWS).zip(terms.chunks(BULK_ROWS)) {
        // The placeholders of the case store's other bulk statements.
        let mut mark = crate::cases::bulk_marks(backend);
        let rows: Vec<String> = ids
            .iter()
            .map(|_| match terms_of {
                None => format!("({}, {})", mark(), mark()),
                Some(f) => format!("({}, {f}({}, ' '))", mark(), mark()),
            })
            .collect();
        let mut q = sqlx::query(AssertSqlSafe(format!("{head}{}", rows.join(", "))));
        for (id, t) in ids.iter().zip(terms) {
            q = q.bind(*id).bind(t.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Rows per statement of [`insert_terms_bulk`] (two values each).
const BULK_ROWS: usize = 8_000;

/// Writes the terms of case `id` (PostgreSQL, inside the case's own transaction).
pub(crate) async fn insert_terms(
    tx: &mut sqlx::Transaction<'_, Any>,
    id: i64,
    title: &str,
    text: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO case_terms (case_id, terms) VALUES ($1, string_to_array($2, ' '))")
        .bind(id)
        .bind(joined(&terms(title, text)))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Indexes the cases a PostgreSQL store had before search existed (after the migration).
pub(crate) async fn index_missing_postgres(writer: &AnyPool) -> Result<(), StoreError> {
    loop {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT id, title, body FROM cases c WHERE NOT EXISTS \
             (SELECT 1 FROM case_terms t WHERE t.case_id = c.id) ORDER BY id LIMIT {BATCH}"
        )))
        .fetch_all(writer)
        .await?;
        if rows.is_empty() {
            return Ok(());
        }
        let mut tx = writer.begin().await?;
        for r in &rows {
            let (id, title, body): (i64, String, String) = (r.try_get("id")?, r.try_get("title")?, r.try_get("body")?);
            sqlx::query(
                "INSERT INTO case_terms (case_id, terms) VALUES ($1, string_to_array($2, ' ')) \
                 ON CONFLICT (case_id) DO NOTHING",
            )
            .bind(id)
            .bind(joined(&terms(&title, &body)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn terms_are_characters_and_pairs() {
        assert_eq!(terms("占道", "路边, 占道！"), ["占", "占道", "路", "路边", "边", "边占", "道"]);
        assert_eq!(query_terms("占"), ["占"]);
        assert_eq!(query_terms("占道经营"), ["占道", "经营", "道经"]);
        assert_eq!(query_terms("Pot-Hole"), ["ho", "le", "ol", "ot", "po", "th"]);
        assert!(query_terms("！？ %_").is_empty());
        assert_eq!(fts_match(&query_terms("噪音")), "\"噪音\"");
    }

    proptest! {
        /// Whatever the text and wherever the query is cut from it, the query's terms are among
        /// the text's: the index cannot miss a case that contains the query.
        #[test]
        fn a_query_cut_from_a_text_finds_it(
            text in "[占道经营噪音停车 a-zA-Z0-9，。！%_\\-１２]{0,40}",
            from in 0usize..40,
            len in 1usize..12,
        ) {
            let chars: Vec<char> = text.chars().collect();
            let from = from.min(chars.len());
            let to = (from + len).min(chars.len());
            let query: String = chars[from..to].iter().collect();
            let indexed = terms("", &text);
            for t in query_terms(&query) {
                prop_assert!(indexed.binary_search(&t).is_ok(), "{t:?} of {query:?} not in {indexed:?}");
            }
        }
    }
}
