//! Display names for simulated agents (some with quotes and apostrophes, to exercise escaping).

const FIRST: &[&str] = &[
    "Ana",
    "Ben",
    "Chloé",
    "Dmitri",
    "Emma",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Sven",
    "Tariq",
    "Uma",
    "Vera",
    "Wei",
    "Yusuf",
    "Zoë",
    "Robert \"Bob\"",
];
const LAST: &[&str] = &[
    "O'Brien",
    "Nakamura",
    "Schmidt",
    "García",
    "Okafor",
    "Lindqvist",
    "Rossi",
    "Kowalski",
    "Haddad",
    "Dubois",
    "Novak",
    "Silva",
    "Chen",
    "Müller",
    "Patel",
    "Jensen",
    "D'Angelo",
];

/// The ACD id of agent number `i` (numbered over the teams in order): `PJSIP/1000`, …
pub(crate) fn agent_id(i: usize) -> crate::model::Name {
    compact_str::format_compact!("PJSIP/{}", 1000 + i)
}

/// A deterministic display name for agent number `i`.
pub(crate) fn agent_name(i: usize) -> String {
    let first = FIRST[i % FIRST.len()];
    let last = LAST[(i / FIRST.len() + i * 7) % LAST.len()];
    format!("{first} {last}")
}
