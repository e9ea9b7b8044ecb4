// SPDX-License-Identifier: GPL-2.0

//! The MPTCP TCP option (kind 30) of RFC 8684 section 3: parse and write every subtype.
//!
//! Parsing is strict: each subtype has a fixed set of lengths, which depend on the
//! segment that carries it (SYN, SYN/ACK or other) and on flags; anything else is an
//! error the caller turns into "ignore the option" plus a MIB counter, as upstream
//! Linux does. Reserved bits are ignored on input and written as zero. Nothing here
//! panics on any input, and writing then parsing an option gives the option back.

/// TCP option kind of MPTCP.
pub const TCPOPT_MPTCP: u8 = 30;
/// The MPTCP version this implementation speaks.
pub const MPTCP_VERSION: u8 = 1;
/// The most address ids one REMOVE_ADDR may carry here (upstream's limit as well).
pub const RM_IDS_MAX: usize = 8;
/// Length of the HMAC carried in the third ACK of an MP_JOIN.
pub const JOIN_ACK_HMAC_LEN: usize = 20;

/// Subtypes (RFC 8684 section 3, IANA "MPTCP Option Subtypes").
pub mod subtype {
    /// Multipath Capable.
    pub const MP_CAPABLE: u8 = 0x0;
    /// Join Connection.
    pub const MP_JOIN: u8 = 0x1;
    /// Data Sequence Signal (data ACK and data sequence mapping).
    pub const DSS: u8 = 0x2;
    /// Add Address.
    pub const ADD_ADDR: u8 = 0x3;
    /// Remove Address.
    pub const REMOVE_ADDR: u8 = 0x4;
    /// Change Subflow Priority.
    pub const MP_PRIO: u8 = 0x5;
    /// Fallback.
    pub const MP_FAIL: u8 = 0x6;
    /// Fast Close.
    pub const MP_FASTCLOSE: u8 = 0x7;
    /// Subflow Reset.
    pub const MP_TCPRST: u8 = 0x8;
}

/// Option lengths, in bytes including kind and length (upstream's TCPOLEN_MPTCP_*).
pub mod len {
    /// MP_CAPABLE on a SYN.
    pub const MPC_SYN: usize = 4;
    /// MP_CAPABLE on a SYN/ACK (the server's key).
    pub const MPC_SYNACK: usize = 12;
    /// MP_CAPABLE on the third ACK (both keys).
    pub const MPC_ACK: usize = 20;
    /// MP_CAPABLE on the first data packet: keys and data-level length.
    pub const MPC_ACK_DATA: usize = 22;
    /// MP_JOIN on a SYN.
    pub const MPJ_SYN: usize = 12;
    /// MP_JOIN on a SYN/ACK.
    pub const MPJ_SYNACK: usize = 16;
    /// MP_JOIN on the third ACK.
    pub const MPJ_ACK: usize = 24;
    /// DSS header without data ACK or mapping.
    pub const DSS_BASE: usize = 4;
    /// A DSS checksum.
    pub const CHECKSUM: usize = 2;
    /// ADD_ADDR with an IPv4 address, echo (no HMAC), no port.
    pub const ADD_ADDR_BASE: usize = 8;
    /// A truncated HMAC in ADD_ADDR.
    pub const ADD_ADDR_HMAC: usize = 8;
    /// A port in ADD_ADDR.
    pub const PORT: usize = 2;
    /// REMOVE_ADDR without ids.
    pub const RM_ADDR_BASE: usize = 3;
    /// MP_PRIO.
    pub const PRIO: usize = 3;
    /// MP_FAIL.
    pub const FAIL: usize = 12;
    /// MP_FASTCLOSE.
    pub const FASTCLOSE: usize = 12;
    /// MP_TCPRST.
    pub const TCPRST: usize = 4;
}

/// MP_CAPABLE flag bits (RFC 8684 section 3.1).
pub mod mpc_flags {
    /// A: checksum required.
    pub const CHECKSUM_REQUIRED: u8 = 0x80;
    /// B: extensibility (must be 0 in v1).
    pub const EXTENSIBILITY: u8 = 0x40;
    /// C: do not establish subflows to the source address of this SYN.
    pub const NO_JOIN_TO_SOURCE: u8 = 0x20;
    /// H: HMAC-SHA256 (the only algorithm of v1).
    pub const HMAC_SHA256: u8 = 0x01;
}

/// DSS flag bits (RFC 8684 section 3.3).
pub mod dss_flags {
    /// F: DATA_FIN.
    pub const DATA_FIN: u8 = 0x10;
    /// m: the DSN is 8 octets.
    pub const DSN64: u8 = 0x08;
    /// M: a mapping is present.
    pub const MAP: u8 = 0x04;
    /// a: the data ACK is 8 octets.
    pub const ACK64: u8 = 0x02;
    /// A: a data ACK is present.
    pub const ACK: u8 = 0x01;
}

/// Which kind of segment carries the option; several subtypes mean different
/// things on a SYN, a SYN/ACK and any other segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    /// SYN without ACK.
    Syn,
    /// SYN with ACK.
    SynAck,
    /// Any segment without SYN.
    Other,
}

/// Why an option was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not an MPTCP option, or shorter than its own header.
    Truncated,
    /// The length byte disagrees with the bytes given.
    BadLength,
    /// The length is not one the subtype allows on this kind of segment.
    BadSubtypeLength {
        /// The subtype.
        subtype: u8,
        /// The option length.
        len: u8,
    },
    /// MP_CAPABLE with a version other than 1.
    UnsupportedVersion(u8),
    /// A subtype this implementation does not know (including MP_EXPERIMENTAL).
    UnknownSubtype(u8),
}

/// Why an option could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The buffer is too small.
    NoSpace,
    /// The option cannot be expressed (e.g. more than [`RM_IDS_MAX`] ids, no ids).
    Invalid,
}

/// MP_CAPABLE (RFC 8684 section 3.1). Which fields are present follows from the
/// segment: none on the SYN, the sender's key on the SYN/ACK, both keys afterwards,
/// plus the data-level length (and a checksum if required) on the first data packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MpCapable {
    /// Flags A..H (see [`mpc_flags`]).
    pub flags: u8,
    /// The key of the host sending this option (SYN/ACK and later).
    pub sender_key: Option<u64>,
    /// The key of the host receiving this option (third ACK and later).
    pub receiver_key: Option<u64>,
    /// Data-level length of the first data, with its DSS checksum if any.
    pub data: Option<MpcData>,
}

/// The data part of an MP_CAPABLE carried on the first data segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MpcData {
    /// Data-level length.
    pub data_len: u16,
    /// DSS checksum, present exactly when flag A is set.
    pub checksum: Option<u16>,
}

/// MP_JOIN (RFC 8684 section 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MpJoin {
    /// On the SYN.
    Syn {
        /// B: the subflow is a backup.
        backup: bool,
        /// Address id of the sender's address.
        addr_id: u8,
        /// The receiver's connection token.
        token: u32,
        /// The sender's random number.
        nonce: u32,
    },
    /// On the SYN/ACK.
    SynAck {
        /// B: the subflow is a backup.
        backup: bool,
        /// Address id of the sender's address.
        addr_id: u8,
        /// Left-most 64 bits of the sender's HMAC.
        truncated_hmac: u64,
        /// The sender's random number.
        nonce: u32,
    },
    /// On the third ACK.
    Ack {
        /// Left-most 160 bits of the sender's HMAC.
        hmac: [u8; JOIN_ACK_HMAC_LEN],
    },
}

/// A data sequence mapping (DSS with flag M).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DssMap {
    /// Data sequence number; 32-bit ones are expanded by the receiver.
    pub dsn: u64,
    /// Whether the DSN was (or is to be) sent as 8 octets.
    pub dsn64: bool,
    /// Subflow sequence number, relative to the subflow's initial sequence number.
    pub ssn: u32,
    /// Data-level length; 0 is the infinite mapping.
    pub data_len: u16,
    /// DSS checksum, if the connection uses checksums.
    pub checksum: Option<u16>,
}

/// Data Sequence Signal (RFC 8684 section 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dss {
    /// Data ACK and whether it is 8 octets.
    pub data_ack: Option<(u64, bool)>,
    /// Data sequence mapping.
    pub map: Option<DssMap>,
    /// F: DATA_FIN.
    pub data_fin: bool,
}

/// An address as carried by ADD_ADDR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// IPv4, network byte order.
    V4([u8; 4]),
    /// IPv6, network byte order.
    V6([u8; 16]),
}

/// ADD_ADDR (RFC 8684 section 3.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddAddr {
    /// Address id.
    pub addr_id: u8,
    /// The address.
    pub addr: Addr,
    /// Port, if not the one of the initial subflow.
    pub port: Option<u16>,
    /// Truncated HMAC; `None` is an echo (E flag).
    pub hmac: Option<u64>,
}

/// REMOVE_ADDR (RFC 8684 section 3.4.2): one to [`RM_IDS_MAX`] address ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoveAddr {
    ids: [u8; RM_IDS_MAX],
    count: u8,
}

impl RemoveAddr {
    /// A REMOVE_ADDR of `ids`; `None` if there are none or more than [`RM_IDS_MAX`].
    pub fn new(ids: &[u8]) -> Option<Self> {
        if ids.is_empty() || ids.len() > RM_IDS_MAX {
            return None;
        }
        let mut r = RemoveAddr {
            ids: [0; RM_IDS_MAX],
            count: 0,
        };
        r.ids.get_mut(..ids.len())?.copy_from_slice(ids);
        r.count = ids.len() as u8;
        Some(r)
    }

    /// The address ids.
    pub fn ids(&self) -> &[u8] {
        self.ids.get(..usize::from(self.count)).unwrap_or(&[])
    }
}

/// MP_TCPRST flag bits (RFC 8684 section 3.6).
pub mod rst_flags {
    /// T: transient error, the subflow may be retried.
    pub const TRANSIENT: u8 = 0x1;
}

/// One parsed MPTCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MptcpOption {
    /// MP_CAPABLE.
    MpCapable(MpCapable),
    /// MP_JOIN.
    MpJoin(MpJoin),
    /// DSS.
    Dss(Dss),
    /// ADD_ADDR.
    AddAddr(AddAddr),
    /// REMOVE_ADDR.
    RemoveAddr(RemoveAddr),
    /// MP_PRIO.
    MpPrio {
        /// B: the subflow becomes (true) or stops being (false) a backup.
        backup: bool,
    },
    /// MP_FAIL: the DSN of the mapping that failed its checksum.
    MpFail {
        /// 64-bit data sequence number.
        dsn: u64,
    },
    /// MP_FASTCLOSE: the receiver's key.
    MpFastclose {
        /// The key of the host receiving the option.
        receiver_key: u64,
    },
    /// MP_TCPRST.
    MpTcpRst {
        /// Flags U V W T (only T is defined, see [`rst_flags`]).
        flags: u8,
        /// Reason code.
        reason: u8,
    },
}

/// A bounds-checked reader over option bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let end = self.pos.checked_add(N).ok_or(ParseError::BadLength)?;
        let bytes = self.buf.get(self.pos..end).ok_or(ParseError::BadLength)?;
        self.pos = end;
        bytes.try_into().map_err(|_| ParseError::BadLength)
    }
    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(u8::from_be_bytes(self.take::<1>()?))
    }
    fn u16(&mut self) -> Result<u16, ParseError> {
        Ok(u16::from_be_bytes(self.take::<2>()?))
    }
    fn u32(&mut self) -> Result<u32, ParseError> {
        Ok(u32::from_be_bytes(self.take::<4>()?))
    }
    fn u64(&mut self) -> Result<u64, ParseError> {
        Ok(u64::from_be_bytes(self.take::<8>()?))
    }
}

/// The length of a DSS option with these flags, without a checksum.
pub const fn dss_len(flags: u8) -> usize {
    let mut n = len::DSS_BASE;
    if flags & dss_flags::ACK != 0 {
        n += if flags & dss_flags::ACK64 != 0 { 8 } else { 4 };
    }
    if flags & dss_flags::MAP != 0 {
        n += if flags & dss_flags::DSN64 != 0 { 8 } else { 4 };
        n += 4 + 2;
    }
    n
}

/// The length of an ADD_ADDR option.
pub const fn add_addr_len(v6: bool, port: bool, hmac: bool) -> usize {
    let mut n = len::ADD_ADDR_BASE;
    if v6 {
        n += 12;
    }
    if port {
        n += len::PORT;
    }
    if hmac {
        n += len::ADD_ADDR_HMAC;
    }
    n
}

/// Parses one MPTCP option: `opt` starts at the kind byte and is exactly as long as
/// its length byte says (as [`TcpOptions`] yields them).
pub fn parse(seg: Segment, opt: &[u8]) -> Result<MptcpOption, ParseError> {
    let (&kind, rest) = opt.split_first().ok_or(ParseError::Truncated)?;
    let (&optlen, _) = rest.split_first().ok_or(ParseError::Truncated)?;
    if kind != TCPOPT_MPTCP || opt.len() < 3 {
        return Err(ParseError::Truncated);
    }
    if usize::from(optlen) != opt.len() {
        return Err(ParseError::BadLength);
    }
    let mut r = Reader { buf: opt, pos: 2 };
    let b2 = r.u8()?;
    let sub = b2 >> 4;
    let n = opt.len();
    let bad = ParseError::BadSubtypeLength {
        subtype: sub,
        len: optlen,
    };
    match sub {
        subtype::MP_CAPABLE => {
            let version = b2 & 0xf;
            if version != MPTCP_VERSION {
                return Err(ParseError::UnsupportedVersion(version));
            }
            let flags = r.u8()?;
            let csum = flags & mpc_flags::CHECKSUM_REQUIRED != 0;
            let ok = match seg {
                Segment::Syn => n == len::MPC_SYN,
                Segment::SynAck => n == len::MPC_SYNACK,
                Segment::Other => {
                    n == len::MPC_ACK
                        || n == len::MPC_ACK_DATA + if csum { len::CHECKSUM } else { 0 }
                }
            };
            if !ok {
                return Err(bad);
            }
            let sender_key = if n >= len::MPC_SYNACK {
                Some(r.u64()?)
            } else {
                None
            };
            let receiver_key = if n >= len::MPC_ACK {
                Some(r.u64()?)
            } else {
                None
            };
            let data = if n >= len::MPC_ACK_DATA {
                let data_len = r.u16()?;
                let checksum = if csum { Some(r.u16()?) } else { None };
                Some(MpcData { data_len, checksum })
            } else {
                None
            };
            Ok(MptcpOption::MpCapable(MpCapable {
                flags,
                sender_key,
                receiver_key,
                data,
            }))
        }
        subtype::MP_JOIN => {
            let backup = b2 & 0x1 != 0;
            match (seg, n) {
                (Segment::Syn, len::MPJ_SYN) => Ok(MptcpOption::MpJoin(MpJoin::Syn {
                    backup,
                    addr_id: r.u8()?,
                    token: r.u32()?,
                    nonce: r.u32()?,
                })),
                (Segment::SynAck, len::MPJ_SYNACK) => Ok(MptcpOption::MpJoin(MpJoin::SynAck {
                    backup,
                    addr_id: r.u8()?,
                    truncated_hmac: r.u64()?,
                    nonce: r.u32()?,
                })),
                (Segment::Other, len::MPJ_ACK) => {
                    let _reserved = r.u8()?;
                    Ok(MptcpOption::MpJoin(MpJoin::Ack { hmac: r.take()? }))
                }
                _ => Err(bad),
            }
        }
        subtype::DSS => {
            let flags = r.u8()?;
            let base = dss_len(flags);
            let has_map = flags & dss_flags::MAP != 0;
            let checksum_present = if n == base {
                false
            } else if has_map && n == base + len::CHECKSUM {
                true
            } else {
                return Err(bad);
            };
            let data_ack = if flags & dss_flags::ACK != 0 {
                let wide = flags & dss_flags::ACK64 != 0;
                let v = if wide { r.u64()? } else { u64::from(r.u32()?) };
                Some((v, wide))
            } else {
                None
            };
            let map = if has_map {
                let dsn64 = flags & dss_flags::DSN64 != 0;
                let dsn = if dsn64 { r.u64()? } else { u64::from(r.u32()?) };
                let ssn = r.u32()?;
                let data_len = r.u16()?;
                let checksum = if checksum_present {
                    Some(r.u16()?)
                } else {
                    None
                };
                Some(DssMap {
                    dsn,
                    dsn64,
                    ssn,
                    data_len,
                    checksum,
                })
            } else {
                None
            };
            Ok(MptcpOption::Dss(Dss {
                data_ack,
                map,
                data_fin: flags & dss_flags::DATA_FIN != 0,
            }))
        }
        subtype::ADD_ADDR => {
            let echo = b2 & 0x1 != 0;
            let hmac = !echo;
            let (v6, port) = if n == add_addr_len(false, false, hmac) {
                (false, false)
            } else if n == add_addr_len(false, true, hmac) {
                (false, true)
            } else if n == add_addr_len(true, false, hmac) {
                (true, false)
            } else if n == add_addr_len(true, true, hmac) {
                (true, true)
            } else {
                return Err(bad);
            };
            let addr_id = r.u8()?;
            let addr = if v6 {
                Addr::V6(r.take()?)
            } else {
                Addr::V4(r.take()?)
            };
            let port = if port { Some(r.u16()?) } else { None };
            let hmac = if hmac { Some(r.u64()?) } else { None };
            Ok(MptcpOption::AddAddr(AddAddr {
                addr_id,
                addr,
                port,
                hmac,
            }))
        }
        subtype::REMOVE_ADDR => {
            let ids = opt.get(len::RM_ADDR_BASE..).ok_or(bad)?;
            RemoveAddr::new(ids).map(MptcpOption::RemoveAddr).ok_or(bad)
        }
        subtype::MP_PRIO => {
            if n != len::PRIO {
                return Err(bad);
            }
            Ok(MptcpOption::MpPrio {
                backup: b2 & 0x1 != 0,
            })
        }
        subtype::MP_FAIL => {
            if n != len::FAIL {
                return Err(bad);
            }
            let _reserved = r.u8()?;
            Ok(MptcpOption::MpFail { dsn: r.u64()? })
        }
        subtype::MP_FASTCLOSE => {
            if n != len::FASTCLOSE {
                return Err(bad);
            }
            let _reserved = r.u8()?;
            Ok(MptcpOption::MpFastclose {
                receiver_key: r.u64()?,
            })
        }
        subtype::MP_TCPRST => {
            if n != len::TCPRST {
                return Err(bad);
            }
            Ok(MptcpOption::MpTcpRst {
                flags: b2 & 0xf,
                reason: r.u8()?,
            })
        }
        other => Err(ParseError::UnknownSubtype(other)),
    }
}

/// A bounds-checked writer into an option buffer.
struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(WriteError::NoSpace)?;
        self.buf
            .get_mut(self.pos..end)
            .ok_or(WriteError::NoSpace)?
            .copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }
}

impl MptcpOption {
    /// The length of this option on the wire, kind and length byte included.
    pub fn wire_len(&self) -> Result<usize, WriteError> {
        Ok(match self {
            MptcpOption::MpCapable(m) => {
                match (m.sender_key, m.receiver_key, m.data) {
                    (None, None, None) => len::MPC_SYN,
                    (Some(_), None, None) => len::MPC_SYNACK,
                    (Some(_), Some(_), None) => len::MPC_ACK,
                    (Some(_), Some(_), Some(d)) => {
                        // the checksum is present exactly when flag A says so
                        let a = m.flags & mpc_flags::CHECKSUM_REQUIRED != 0;
                        if a != d.checksum.is_some() {
                            return Err(WriteError::Invalid);
                        }
                        len::MPC_ACK_DATA + if a { len::CHECKSUM } else { 0 }
                    }
                    _ => return Err(WriteError::Invalid),
                }
            }
            MptcpOption::MpJoin(MpJoin::Syn { .. }) => len::MPJ_SYN,
            MptcpOption::MpJoin(MpJoin::SynAck { .. }) => len::MPJ_SYNACK,
            MptcpOption::MpJoin(MpJoin::Ack { .. }) => len::MPJ_ACK,
            MptcpOption::Dss(d) => {
                let n = dss_len(d.flags());
                match d.map {
                    Some(DssMap {
                        checksum: Some(_), ..
                    }) => n + len::CHECKSUM,
                    _ => n,
                }
            }
            MptcpOption::AddAddr(a) => add_addr_len(
                matches!(a.addr, Addr::V6(_)),
                a.port.is_some(),
                a.hmac.is_some(),
            ),
            MptcpOption::RemoveAddr(r) => len::RM_ADDR_BASE + r.ids().len(),
            MptcpOption::MpPrio { .. } => len::PRIO,
            MptcpOption::MpFail { .. } => len::FAIL,
            MptcpOption::MpFastclose { .. } => len::FASTCLOSE,
            MptcpOption::MpTcpRst { .. } => len::TCPRST,
        })
    }

    /// The segment kind this option belongs on, where the subtype depends on it.
    pub fn segment(&self) -> Segment {
        match self {
            MptcpOption::MpCapable(m) => match (m.sender_key, m.receiver_key) {
                (None, _) => Segment::Syn,
                (Some(_), None) => Segment::SynAck,
                _ => Segment::Other,
            },
            MptcpOption::MpJoin(MpJoin::Syn { .. }) => Segment::Syn,
            MptcpOption::MpJoin(MpJoin::SynAck { .. }) => Segment::SynAck,
            _ => Segment::Other,
        }
    }

    /// Writes the option (kind and length included) at the start of `out`; returns
    /// the number of bytes written.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        let n = self.wire_len()?;
        let optlen = u8::try_from(n).map_err(|_| WriteError::Invalid)?;
        let mut w = Writer { buf: out, pos: 0 };
        let hdr = |sub: u8, low: u8| [TCPOPT_MPTCP, optlen, (sub << 4) | (low & 0xf)];
        match self {
            MptcpOption::MpCapable(m) => {
                w.put(&hdr(subtype::MP_CAPABLE, MPTCP_VERSION))?;
                w.put(&[m.flags])?;
                if let Some(k) = m.sender_key {
                    w.put(&k.to_be_bytes())?;
                }
                if let Some(k) = m.receiver_key {
                    w.put(&k.to_be_bytes())?;
                }
                if let Some(d) = m.data {
                    w.put(&d.data_len.to_be_bytes())?;
                    if let Some(c) = d.checksum {
                        w.put(&c.to_be_bytes())?;
                    }
                }
            }
            MptcpOption::MpJoin(j) => match *j {
                MpJoin::Syn {
                    backup,
                    addr_id,
                    token,
                    nonce,
                } => {
                    w.put(&hdr(subtype::MP_JOIN, u8::from(backup)))?;
                    w.put(&[addr_id])?;
                    w.put(&token.to_be_bytes())?;
                    w.put(&nonce.to_be_bytes())?;
                }
                MpJoin::SynAck {
                    backup,
                    addr_id,
                    truncated_hmac,
                    nonce,
                } => {
                    w.put(&hdr(subtype::MP_JOIN, u8::from(backup)))?;
                    w.put(&[addr_id])?;
                    w.put(&truncated_hmac.to_be_bytes())?;
                    w.put(&nonce.to_be_bytes())?;
                }
                MpJoin::Ack { hmac } => {
                    w.put(&hdr(subtype::MP_JOIN, 0))?;
                    w.put(&[0])?;
                    w.put(&hmac)?;
                }
            },
            MptcpOption::Dss(d) => {
                w.put(&hdr(subtype::DSS, 0))?;
                w.put(&[d.flags()])?;
                if let Some((ack, wide)) = d.data_ack {
                    if wide {
                        w.put(&ack.to_be_bytes())?;
                    } else {
                        w.put(&(ack as u32).to_be_bytes())?;
                    }
                }
                if let Some(m) = d.map {
                    if m.dsn64 {
                        w.put(&m.dsn.to_be_bytes())?;
                    } else {
                        w.put(&(m.dsn as u32).to_be_bytes())?;
                    }
                    w.put(&m.ssn.to_be_bytes())?;
                    w.put(&m.data_len.to_be_bytes())?;
                    if let Some(c) = m.checksum {
                        w.put(&c.to_be_bytes())?;
                    }
                }
            }
            MptcpOption::AddAddr(a) => {
                w.put(&hdr(subtype::ADD_ADDR, u8::from(a.hmac.is_none())))?;
                w.put(&[a.addr_id])?;
                match &a.addr {
                    Addr::V4(b) => w.put(b)?,
                    Addr::V6(b) => w.put(b)?,
                }
                if let Some(p) = a.port {
                    w.put(&p.to_be_bytes())?;
                }
                if let Some(h) = a.hmac {
                    w.put(&h.to_be_bytes())?;
                }
            }
            MptcpOption::RemoveAddr(r) => {
                w.put(&hdr(subtype::REMOVE_ADDR, 0))?;
                w.put(r.ids())?;
            }
            MptcpOption::MpPrio { backup } => {
                w.put(&hdr(subtype::MP_PRIO, u8::from(*backup)))?;
            }
            MptcpOption::MpFail { dsn } => {
                w.put(&hdr(subtype::MP_FAIL, 0))?;
                w.put(&[0])?;
                w.put(&dsn.to_be_bytes())?;
            }
            MptcpOption::MpFastclose { receiver_key } => {
                w.put(&hdr(subtype::MP_FASTCLOSE, 0))?;
                w.put(&[0])?;
                w.put(&receiver_key.to_be_bytes())?;
            }
            MptcpOption::MpTcpRst { flags, reason } => {
                w.put(&hdr(subtype::MP_TCPRST, *flags))?;
                w.put(&[*reason])?;
            }
        }
        Ok(w.pos)
    }
}

impl Dss {
    /// The DSS flags byte describing this option.
    pub fn flags(&self) -> u8 {
        let mut f = 0;
        if let Some((_, wide)) = self.data_ack {
            f |= dss_flags::ACK;
            if wide {
                f |= dss_flags::ACK64;
            }
        }
        if let Some(m) = self.map {
            f |= dss_flags::MAP;
            if m.dsn64 {
                f |= dss_flags::DSN64;
            }
        }
        if self.data_fin {
            f |= dss_flags::DATA_FIN;
        }
        f
    }
}

/// A malformed TCP option list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MalformedTcpOptions;

/// Iterates over the options of a TCP header's option space, yielding each option
/// (kind, length and body) other than EOL and NOP, and an error (once, then ending)
/// where a length byte is missing, below 2 or runs past the end.
pub struct TcpOptions<'a> {
    rest: &'a [u8],
}

impl<'a> TcpOptions<'a> {
    /// Walks `options`, the bytes between the fixed TCP header and the payload.
    pub fn new(options: &'a [u8]) -> Self {
        TcpOptions { rest: options }
    }
}

impl<'a> Iterator for TcpOptions<'a> {
    type Item = Result<&'a [u8], MalformedTcpOptions>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, tail) = self.rest.split_first()?;
            match kind {
                0 => {
                    self.rest = &[];
                    return None;
                }
                1 => self.rest = tail,
                _ => {
                    let len = tail.first().map(|&l| usize::from(l));
                    let opt = len.filter(|&l| l >= 2).and_then(|l| self.rest.get(..l));
                    return match opt {
                        Some(opt) => {
                            self.rest = self.rest.get(opt.len()..).unwrap_or(&[]);
                            Some(Ok(opt))
                        }
                        None => {
                            self.rest = &[];
                            Some(Err(MalformedTcpOptions))
                        }
                    };
                }
            }
        }
    }
}
