//! Request builders for the demo province used across tests: Gia Lai in edition 2024.

use chrono::NaiveDate;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{Observation, SubmitReportRequest};
use p06_proto::common::{LocalityRef, Narrative, Period};

pub const EDITION: &str = "2024";
/// Gia Lai in the three-tier editions.
pub const GIA_LAI: &str = "64";
/// Đak Đoa district of Gia Lai.
pub const DAK_DOA: &str = "626";
/// Xã Hà Đông, in Đak Đoa.
pub const HA_DONG: &str = "23680";
/// Bình Định (2024), a different province for cross-province tests.
pub const BINH_DINH: &str = "52";

pub fn date(s: &str) -> NaiveDate {
    s.parse().expect("test date")
}

pub fn province(code: &str) -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: code.into(),
    })
}

pub fn period(start: &str, end: &str) -> Option<Period> {
    Some(Period {
        start: Some(date_to_proto(date(start))),
        end: Some(date_to_proto(date(end))),
    })
}

pub fn obs(indicator: &str, locality: &str, value: f64) -> Observation {
    Observation {
        indicator_code: indicator.into(),
        locality_code: locality.into(),
        value,
        carried_from: String::new(),
    }
}

/// A police report for Gia Lai, week of 10–16 March 2025.
pub fn police_report(request_id: &str, observations: Vec<Observation>) -> SubmitReportRequest {
    SubmitReportRequest {
        request_id: request_id.into(),
        agency: "police".into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        observations,
        narrative: Some(Narrative {
            assessment: "Đạt 40,8% dân số thường trú; 19/218 xã đạt chỉ tiêu.".into(),
            obstacles: "Thiếu thiết bị tại xã vùng sâu.".into(),
            proposals: "Bổ sung tổ lưu động.".into(),
        }),
        ..Default::default()
    }
}
