//! Records that requests and replies share: counted strings and buffers, SASL tokens, Stat
//! and ACL lists.

use super::*;

pub(super) fn counted(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str, utf8: bool) {
    match c.val {
        Some(_) => {
            t.add_counted(hf, c.off, c.len, utf8);
        }
        None => {
            let nul = if utf8 { Hf::StringNull } else { Hf::DataNull };
            t.add(nul, c.off, c.len, Enc::Na)
                .set_text(&format!("{label}: null (length -1)"));
        }
    }
}

pub(super) fn string(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str) {
    counted(t, hf, c, label, true);
}

pub(super) fn bytes_field(t: &Tree<'_>, hf: Hf, c: &Counted<'_>, label: &str) {
    counted(t, hf, c, label, false);
}

/// A SASL token, and its text when it is printable: DIGEST-MD5, the mechanism ZooKeeper
/// ships with, exchanges `realm="...",nonce="..."` challenges and responses, which are
/// what one reads when an authentication fails. (GSSAPI tokens are binary.)
pub(super) fn sasl_token(t: &Tree<'_>, token: &Counted<'_>) {
    bytes_field(t, Hf::SaslToken, token, "SASL token");
    if let Some(v) = token.val
        && !v.is_empty()
        && v.iter().all(|&b| b == b' ' || b.is_ascii_graphic())
    {
        t.add_string(
            Hf::SaslTokenText,
            token.off + 4,
            v.len(),
            &String::from_utf8_lossy(v),
        );
    }
}

pub(super) fn stat(t: &Tree<'_>, s: &At<Stat>) {
    let (_, sub) = t.add_group(Hf::Stat, s.off, s.len, Ett::Stat, "Stat");
    let v = &s.val;
    sub.add_at(Hf::StatCzxid, &v.czxid);
    sub.add_at(Hf::StatMzxid, &v.mzxid);
    sub.add_time_ms(Hf::StatCtime, v.ctime.off, 8, v.ctime.val);
    sub.add_time_ms(Hf::StatMtime, v.mtime.off, 8, v.mtime.val);
    sub.add_at(Hf::StatVersion, &v.version);
    sub.add_at(Hf::StatCversion, &v.cversion);
    sub.add_at(Hf::StatAversion, &v.aversion);
    sub.add(
        Hf::StatEphemeralOwner,
        v.ephemeral_owner.off,
        8,
        Enc::BigEndian,
    );
    sub.add_at(Hf::StatDataLength, &v.data_length);
    sub.add_at(Hf::StatNumChildren, &v.num_children);
    sub.add_at(Hf::StatPzxid, &v.pzxid);
}

pub(super) const PERM_NAMES: [(i32, &str); 5] = [
    (1, "READ"),
    (2, "WRITE"),
    (4, "CREATE"),
    (8, "DELETE"),
    (16, "ADMIN"),
];

pub(super) fn acl_list(t: &Tree<'_>, list: &At<Vec<At<Acl<'_>>>>) {
    let label = if t.is_shown() {
        format!("ACL: {} entries", list.val.len())
    } else {
        String::new()
    };
    let (_, sub) = t.add_group(Hf::Acl, list.off, list.len, Ett::AclList, &label);
    sub.add(Hf::AclCount, list.off, 4, Enc::BigEndian);
    for a in &list.val {
        let label = if t.is_shown() {
            let perms: Vec<&str> = PERM_NAMES
                .iter()
                .filter(|(b, _)| a.val.perms.val & b != 0)
                .map(|(_, n)| *n)
                .collect();
            format!(
                "{}:{} [{}]",
                text_or_null(a.val.id.val.scheme.val),
                text_or_null(a.val.id.val.id.val),
                perms.join(",")
            )
        } else {
            String::new()
        };
        let (_, entry) = sub.add_group(Hf::Acl, a.off, a.len, Ett::Acl, &label);
        let perms = entry.add_at(Hf::AclPerms, &a.val.perms);
        let bits = perms.subtree(Ett::AclPerms);
        for hf in [
            Hf::AclPermRead,
            Hf::AclPermWrite,
            Hf::AclPermCreate,
            Hf::AclPermDelete,
            Hf::AclPermAdmin,
        ] {
            bits.add(hf, a.val.perms.off, 4, Enc::BigEndian);
        }
        string(&entry, Hf::AclScheme, &a.val.id.val.scheme, "Scheme");
        string(&entry, Hf::AclId, &a.val.id.val.id, "Id");
    }
}
