//! SETTINGS and their ACKs, flow-control windows (connection and stream, per direction),
//! WINDOW_UPDATE and PING.

use super::*;

/// Flow-control windows after a frame, for the side whose sending they limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    /// The side whose send windows these are (a `Dir`, narrowed: kept per frame).
    pub sender: u8,
    pub connection: i64,
    pub stream: Option<i64>,
}

impl Connection {
    pub(super) fn on_settings(
        &mut self,
        key: PduKey,
        dir: Dir,
        h: &FrameHeader,
        settings: Vec<(u16, u32)>,
        info: &mut FrameInfo,
    ) {
        if h.has(flag::ACK) {
            if !settings.is_empty() {
                info.problems.push(Problem::SettingsAckWithPayload);
            }
            let Some((acked, peer_settings)) = self.sides[1 - dir].pending_settings.pop_front()
            else {
                info.problems.push(Problem::SettingsAckUnmatched);
                return;
            };
            // The acknowledging side has applied the peer's SETTINGS to what it sends.
            for (id, value) in peer_settings {
                match id {
                    setting::HEADER_TABLE_SIZE => {
                        self.sides[dir].hpack.set_max_table_size_limit(value)
                    }
                    setting::INITIAL_WINDOW_SIZE if value <= MAX_WINDOW => {
                        let delta = value as i64 - self.sides[dir].initial_window;
                        self.sides[dir].initial_window = value as i64;
                        for s in self.streams.values_mut() {
                            s.send_window[dir] += delta;
                        }
                    }
                    setting::MAX_FRAME_SIZE
                        if (MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
                    {
                        self.sides[dir].max_frame_size = value
                    }
                    _ => {}
                }
            }
            info.set_settings_peer(acked.frame);
            if let Some(s) = self.decisions.get_mut(&acked) {
                s.set_settings_peer(key.frame);
            }
            return;
        }
        for &(id, value) in &settings {
            let why = match id {
                setting::ENABLE_PUSH
                | setting::ENABLE_CONNECT_PROTOCOL
                | setting::NO_RFC7540_PRIORITIES
                    if value > 1 =>
                {
                    Some("must be 0 or 1 (PROTOCOL_ERROR)")
                }
                setting::INITIAL_WINDOW_SIZE if value > MAX_WINDOW => {
                    Some("above 2^31-1 (FLOW_CONTROL_ERROR)")
                }
                setting::MAX_FRAME_SIZE
                    if !(MIN_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
                {
                    Some("must be between 16384 and 16777215 (PROTOCOL_ERROR)")
                }
                _ => None,
            };
            if let Some(why) = why {
                info.problems.push(Problem::BadSetting { id, value, why });
            }
        }
        let pending = &mut self.sides[dir].pending_settings;
        if pending.len() >= limits::MAX_PENDING_SETTINGS {
            pending.pop_front();
            info.problems
                .push(Problem::PendingLimit { what: "SETTINGS" });
        }
        pending.push_back((key, settings));
    }

    pub(super) fn on_window_update(
        &mut self,
        dir: Dir,
        h: &FrameHeader,
        increment: u32,
        info: &mut FrameInfo,
    ) {
        if increment == 0 {
            info.problems.push(Problem::ZeroIncrement);
        }
        // A WINDOW_UPDATE widens what the *peer* may send.
        let target = 1 - dir;
        if h.stream_id == 0 {
            let side = &mut self.sides[target];
            side.connection_window += increment as i64;
            if side.connection_window > MAX_WINDOW as i64 {
                info.problems.push(Problem::WindowOverflow {
                    connection: true,
                    window: side.connection_window,
                });
            }
            info.windows = Some(Windows {
                sender: target as u8,
                connection: side.connection_window,
                stream: None,
            });
            return;
        }
        let connection = self.sides[target].connection_window;
        let Some(stream) = self.streams.get_mut(&h.stream_id) else {
            info.windows = Some(Windows {
                sender: target as u8,
                connection,
                stream: None,
            });
            return;
        };
        stream.send_window[target] += increment as i64;
        let w = stream.send_window[target];
        info.summary = stream.summary;
        info.stream_state = Some(stream.state);
        if w > MAX_WINDOW as i64 {
            info.problems.push(Problem::WindowOverflow {
                connection: false,
                window: w,
            });
        }
        info.windows = Some(Windows {
            sender: target as u8,
            connection,
            stream: Some(w),
        });
    }

    pub(super) fn on_ping(
        &mut self,
        key: PduKey,
        dir: Dir,
        time: Nanos,
        h: &FrameHeader,
        data: u64,
        info: &mut FrameInfo,
    ) {
        if h.has(flag::ACK) {
            let pings = &mut self.sides[1 - dir].pings;
            if let Some(pos) = pings.iter().position(|(d, _, _)| *d == data)
                && let Some((_, ping_key, sent)) = pings.remove(pos)
            {
                info.set_ping_peer((ping_key.frame, Some(time - sent)));
                if let Some(p) = self.decisions.get_mut(&ping_key) {
                    p.set_ping_peer((key.frame, None));
                }
            }
            return;
        }
        let pings = &mut self.sides[dir].pings;
        if pings.len() >= limits::MAX_PENDING_PINGS {
            pings.pop_front();
            info.problems.push(Problem::PendingLimit { what: "PING" });
        }
        pings.push_back((data, key, time));
    }
}
