//! SMS length (NT-1): how many segments a text needs, GSM-7 or UCS-2, as an SMS gateway bills it.
//!
//! A text that only uses the GSM 03.38 default alphabet (which includes æøåÆØÅ) and its
//! extension table is sent as GSM-7: 160 septets in a single message, 153 per segment when
//! concatenated (the user data header takes the rest). Extension-table characters
//! (`^{}\[~]|€` and form feed) take two septets (escape + character) and are never split
//! across two segments. Any other character (an emoji, a curly quote, an en dash) switches
//! the whole message to UCS-2: 70 UTF-16 code units in a single message, 67 per segment.
//! An emoji outside the Basic Multilingual Plane is two code units, and its surrogate pair
//! is never split across segments either.
//!
//! The empty text counts as **one segment of zero units**: that is what gateways bill if it
//! is sent at all (callers should not send empty messages).

/// How an SMS is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// The GSM 03.38 default alphabet, 7 bits per character (extension characters take two).
    Gsm7,
    /// UCS-2 (in practice UTF-16), 16 bits per code unit.
    Ucs2,
}

/// The length of a text as an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SmsLength {
    /// The encoding the text needs.
    pub encoding: Encoding,
    /// Septets for GSM-7 (extension characters count 2), UTF-16 code units for UCS-2.
    pub units: usize,
    /// Segments (billable messages); at least 1, also for the empty text.
    pub segments: usize,
}

/// Septets in a single (not concatenated) GSM-7 message.
pub const GSM7_SINGLE: usize = 160;
/// Septets per segment of a concatenated GSM-7 message.
pub const GSM7_SEGMENT: usize = 153;
/// UTF-16 code units in a single (not concatenated) UCS-2 message.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 code units per segment of a concatenated UCS-2 message.
pub const UCS2_SEGMENT: usize = 67;

/// The GSM 03.38 default alphabet (basic character set), in code order. The escape
/// (0x1B) is left out: it is not a character a text can contain.
const GSM7_BASIC: &str = concat!(
    "@£$¥èéùìòÇ\nØø\rÅå",
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ",
    " !\"#¤%&'()*+,-./",
    "0123456789:;<=>?",
    "¡ABCDEFGHIJKLMNO",
    "PQRSTUVWXYZÄÖÑÜ§",
    "¿abcdefghijklmno",
    "pqrstuvwxyzäöñüà",
);

/// The characters of the GSM 03.38 extension table that every phone supports; each is sent
/// as escape + character, two septets.
const GSM7_EXTENSION: &str = "\u{0C}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when it is not in the GSM-7 alphabet.
pub fn gsm7_septets(c: char) -> Option<usize> {
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// The encoding, units and segments `text` needs as an SMS.
pub fn sms_length(text: &str) -> SmsLength {
    let septets: Option<Vec<usize>> = text.chars().map(gsm7_septets).collect();
    match septets {
        Some(sizes) => SmsLength {
            encoding: Encoding::Gsm7,
            units: sizes.iter().sum(),
            segments: segments(&sizes, GSM7_SINGLE, GSM7_SEGMENT),
        },
        None => {
            let sizes: Vec<usize> = text.chars().map(char::len_utf16).collect();
            SmsLength {
                encoding: Encoding::Ucs2,
                units: sizes.iter().sum(),
                segments: segments(&sizes, UCS2_SINGLE, UCS2_SEGMENT),
            }
        }
    }
}

/// Segments for characters of the given sizes: one if they all fit in a single message,
/// otherwise packed greedily into segments of `per_segment` units, never splitting a
/// character (an extension character or a surrogate pair) across two segments.
fn segments(sizes: &[usize], single: usize, per_segment: usize) -> usize {
    let total: usize = sizes.iter().sum();
    if total <= single {
        return 1;
    }
    let mut count = 1;
    let mut used = 0;
    for &size in sizes {
        if used + size > per_segment {
            count += 1;
            used = 0;
        }
        used += size;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gsm(units: usize, segments: usize) -> SmsLength {
        SmsLength {
            encoding: Encoding::Gsm7,
            units,
            segments,
        }
    }

    fn ucs(units: usize, segments: usize) -> SmsLength {
        SmsLength {
            encoding: Encoding::Ucs2,
            units,
            segments,
        }
    }

    #[test]
    fn the_alphabet_tables_are_complete() {
        // 128 code points minus the escape; 10 extension characters.
        assert_eq!(GSM7_BASIC.chars().count(), 127);
        assert_eq!(GSM7_EXTENSION.chars().count(), 10);
        for c in GSM7_EXTENSION.chars() {
            assert!(!GSM7_BASIC.contains(c), "{c:?} is in both tables");
        }
        assert_eq!(gsm7_septets('\u{1B}'), None);
    }

    #[test]
    fn empty_text_is_one_segment_of_zero_units() {
        assert_eq!(sms_length(""), gsm(0, 1));
    }

    #[test]
    fn single_gsm7_message_holds_160_septets() {
        assert_eq!(sms_length(&"a".repeat(160)), gsm(160, 1));
        assert_eq!(sms_length(&"a".repeat(161)), gsm(161, 2));
    }

    #[test]
    fn concatenated_gsm7_segments_hold_153_septets() {
        assert_eq!(sms_length(&"a".repeat(306)), gsm(306, 2));
        assert_eq!(sms_length(&"a".repeat(307)), gsm(307, 3));
        assert_eq!(sms_length(&"a".repeat(459)), gsm(459, 3));
        assert_eq!(sms_length(&"a".repeat(460)), gsm(460, 4));
    }

    #[test]
    fn norwegian_letters_stay_gsm7() {
        let text = "Blåbærsyltetøy på Ærø og Åsgårdstrand, Øst";
        let length = sms_length(text);
        assert_eq!(length.encoding, Encoding::Gsm7);
        assert_eq!(length.units, text.chars().count());
        assert_eq!(sms_length(&"æøåÆØÅ".repeat(10)), gsm(60, 1));
        assert_eq!(sms_length(&"ø".repeat(160)), gsm(160, 1));
    }

    #[test]
    fn extension_characters_count_two_septets() {
        assert_eq!(sms_length("€"), gsm(2, 1));
        assert_eq!(sms_length("^{}\\[~]|€\u{0C}"), gsm(20, 1));
        assert_eq!(sms_length("Pris: 100 €"), gsm(12, 1));
        // 159 + 2 = 161 septets no longer fit one message.
        assert_eq!(sms_length(&format!("{}€", "a".repeat(158))), gsm(160, 1));
        assert_eq!(sms_length(&format!("{}€", "a".repeat(159))), gsm(161, 2));
        assert_eq!(sms_length(&"€".repeat(80)), gsm(160, 1));
        assert_eq!(sms_length(&"€".repeat(81)), gsm(162, 2));
    }

    #[test]
    fn extension_character_is_not_split_across_segments() {
        // 306 septets would fill exactly two segments, but after 152 septets the € would
        // straddle the boundary: it moves to segment 2, and the last septet needs a third.
        let text = format!("{}€{}", "a".repeat(152), "a".repeat(152));
        assert_eq!(sms_length(&text), gsm(306, 3));
        // The same length with € wholly inside segment 1 fits in two.
        let text = format!("{}€{}", "a".repeat(151), "a".repeat(153));
        assert_eq!(sms_length(&text), gsm(306, 2));
        // A segment holds only 76 € (152 septets), so 153 of them need three segments.
        assert_eq!(sms_length(&"€".repeat(152)), gsm(304, 2));
        assert_eq!(sms_length(&"€".repeat(153)), gsm(306, 3));
    }

    #[test]
    fn one_emoji_forces_ucs2() {
        let text = format!("{}😀", "a".repeat(10));
        assert_eq!(sms_length(&text), ucs(12, 1));
        assert_eq!(sms_length("😀"), ucs(2, 1));
        // A curly quote or en dash is not GSM-7 either.
        assert_eq!(sms_length("’").encoding, Encoding::Ucs2);
        assert_eq!(sms_length("–").encoding, Encoding::Ucs2);
    }

    #[test]
    fn ucs2_counts_code_units_not_septets() {
        // In UCS-2 the extension characters and æøå are one unit each.
        assert_eq!(sms_length("€æøå😀"), ucs(6, 1));
    }

    #[test]
    fn single_ucs2_message_holds_70_units() {
        assert_eq!(sms_length(&"д".repeat(70)), ucs(70, 1));
        assert_eq!(sms_length(&"д".repeat(71)), ucs(71, 2));
        assert_eq!(sms_length(&"😀".repeat(35)), ucs(70, 1));
        assert_eq!(sms_length(&"😀".repeat(36)), ucs(72, 2));
    }

    #[test]
    fn concatenated_ucs2_segments_hold_67_units() {
        assert_eq!(sms_length(&"д".repeat(134)), ucs(134, 2));
        assert_eq!(sms_length(&"д".repeat(135)), ucs(135, 3));
        assert_eq!(sms_length(&"д".repeat(201)), ucs(201, 3));
        assert_eq!(sms_length(&"д".repeat(202)), ucs(202, 4));
    }

    #[test]
    fn surrogate_pair_is_not_split_across_segments() {
        // 66 units, then an emoji would straddle the boundary: it moves to segment 2.
        let text = format!("{}😀{}", "д".repeat(66), "д".repeat(66));
        assert_eq!(sms_length(&text), ucs(134, 3));
        let text = format!("{}😀{}", "д".repeat(65), "д".repeat(67));
        assert_eq!(sms_length(&text), ucs(134, 2));
    }
}
