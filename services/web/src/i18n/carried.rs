//! The note of a view carried across the 2025 reform (`carried_from_edition`): which edition its
//! figures come from, and the split and left-out communes they include.

use super::Lang;

/// What a view carried across the 2025 reform says of itself: the edition carried
/// (`carried_from_edition`, 0 when none) and the edition carried onto, the most split communes
/// any figure includes, and the most communes that reported and were left out of a figure for
/// want of a successor (edition 2023).
#[derive(Debug, Clone, Copy, Default)]
pub struct Carried<'a> {
    pub from: i32,
    pub to: &'a str,
    pub split: i32,
    pub uncarried: i32,
}

/// The note of a view carried across the 2025 reform; empty when not carried. The split and the
/// uncarried communes' clauses are left out when no figure includes one.
pub fn carried_note(lang: Lang, c: Carried<'_>) -> String {
    let Carried {
        from,
        to,
        split,
        uncarried,
    } = c;
    if from == 0 {
        return String::new();
    }
    match lang {
        Lang::Vi => {
            let split = match split {
                0 => String::new(),
                n => format!("; {n} xã bị chia tách tính trọn cho xã kế thừa mặc định"),
            };
            let uncarried = match uncarried {
                0 => String::new(),
                n => format!(
                    " Không tính {n} xã của bộ mã {from} đã báo cáo nhưng không có trong bộ mã \
                     2024 (đã sáp nhập, không rõ đơn vị kế thừa)."
                ),
            };
            format!(
                "Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã {from}, quy đổi sang đơn vị hành \
                 chính {to} (xã sáp nhập cộng dồn{split}).{uncarried}"
            )
        }
        Lang::En => {
            let split = match split {
                0 => String::new(),
                n => format!("; {n} split communes counted whole toward their default successors"),
            };
            let uncarried = match uncarried {
                0 => String::new(),
                n => format!(
                    " {n} communes of edition {from} that reported are left out: not in edition \
                     2024 (merged, their successor unknown)."
                ),
            };
            format!(
                "Figures before 1 July 2025: reported in edition {from}, carried onto the {to} \
                 units (merged communes add up{split}).{uncarried}"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carried(from: i32, split: i32, uncarried: i32) -> Carried<'static> {
        Carried {
            from,
            to: "2025",
            split,
            uncarried,
        }
    }

    #[test]
    fn a_carried_view_says_which_edition_and_how_many_split_communes() {
        assert_eq!(carried_note(Lang::Vi, carried(0, 3, 0)), "");
        let vi = carried_note(Lang::Vi, carried(2024, 1, 0));
        assert!(
            vi.starts_with("Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã 2024"),
            "{vi}"
        );
        assert!(vi.contains("1 xã bị chia tách"), "{vi}");
        let en = carried_note(Lang::En, carried(2024, 6, 0));
        assert!(
            en.contains("edition 2024, carried onto the 2025 units"),
            "{en}"
        );
        assert!(en.contains("6 split communes"), "{en}");
    }

    #[test]
    fn a_carried_view_without_split_communes_does_not_count_zero_of_them() {
        let vi = carried_note(Lang::Vi, carried(2024, 0, 0));
        assert_eq!(
            vi,
            "Số liệu trước ngày 1/7/2025: báo cáo theo bộ mã 2024, quy đổi sang đơn vị hành \
             chính 2025 (xã sáp nhập cộng dồn)."
        );
        assert!(!vi.contains("chia tách"), "{vi}");
        let en = carried_note(Lang::En, carried(2024, 0, 0));
        assert_eq!(
            en,
            "Figures before 1 July 2025: reported in edition 2024, carried onto the 2025 units \
             (merged communes add up)."
        );
        assert!(!en.contains("split"), "{en}");
    }

    #[test]
    fn a_view_carried_from_2023_says_how_many_communes_it_leaves_out() {
        let vi = carried_note(Lang::Vi, carried(2023, 1, 3));
        assert!(
            vi.contains("bộ mã 2023, quy đổi sang đơn vị hành chính 2025"),
            "{vi}"
        );
        assert!(vi.contains("1 xã bị chia tách"), "{vi}");
        assert!(
            vi.ends_with(
                "Không tính 3 xã của bộ mã 2023 đã báo cáo nhưng không có trong bộ mã 2024 \
                 (đã sáp nhập, không rõ đơn vị kế thừa)."
            ),
            "{vi}"
        );
        let en = carried_note(Lang::En, carried(2023, 0, 3));
        assert!(
            en.ends_with(
                "(merged communes add up). 3 communes of edition 2023 that reported are left \
                 out: not in edition 2024 (merged, their successor unknown)."
            ),
            "{en}"
        );
        assert!(!carried_note(Lang::En, carried(2023, 0, 0)).contains("left out"));
    }
}
