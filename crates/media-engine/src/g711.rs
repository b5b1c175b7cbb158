//! G.711 (ITU-T G.711, 1988): µ-law and A-law companding between 16-bit linear samples and
//! the 8-bit codes RTP carries as PCMU (payload type 0) and PCMA (payload type 8).
//!
//! Both laws split the magnitude into 8 segments, each twice as wide as the one before,
//! and keep 4 bits of mantissa inside a segment: small sounds keep their precision, loud
//! ones lose only what the ear does not miss. µ-law (North America, Japan) works on 14-bit
//! magnitudes with a bias of 33 that makes the segment edges powers of two; A-law
//! (elsewhere) works on 13 bits, linear in its first two segments. Both invert bits on the
//! wire (µ-law all of them, A-law every other one) so that silence is not a run of zeros,
//! which old digital trunks could not carry.
//!
//! The encoders are total: every `i16` has a code. Samples are rounded to the law's
//! precision (14 or 13 bits) before encoding, as sox does, and the tests hold both
//! directions to sox's output for every sample and every code.

/// Added to 14-bit µ-law magnitudes so that segment `s` starts at `0x21 << s`.
const ULAW_BIAS: i32 = 0x21;
/// Largest 14-bit µ-law magnitude before the bias.
const ULAW_CLIP: i32 = 8159;

/// Encodes one linear sample as a µ-law code.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    // To 14 bits, rounding to the nearest step as sox does (truncating would bias every
    // sample towards zero by half a step).
    let value = (i32::from(sample) + 2) >> 2;
    let (magnitude, mask) = if value < 0 {
        (-value, 0x7f)
    } else {
        (value, 0xff)
    };
    let magnitude = magnitude.min(ULAW_CLIP) + ULAW_BIAS;
    // Segment 0 ends at 0x3f; each later one is twice as wide.
    let segment = (bit_length(magnitude) - 6).max(0);
    let code = if segment >= 8 {
        0x7f
    } else {
        (segment << 4) | ((magnitude >> (segment + 1)) & 0x0f)
    };
    (code ^ mask) as u8
}

/// Decodes one µ-law code to a linear sample.
pub fn ulaw_to_linear(code: u8) -> i16 {
    let code = !code;
    let segment = (code >> 4) & 0x07;
    let mantissa = i32::from(code & 0x0f);
    // The same bias at 16 bits (0x21 << 2), and the middle of the step.
    let magnitude = (((mantissa << 3) + 0x84) << segment) - 0x84;
    // At most ((0x0f << 3) + 0x84) << 7 - 0x84 = 32124: always fits.
    (if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }) as i16
}

/// Encodes one linear sample as an A-law code.
pub fn linear_to_alaw(sample: i16) -> u8 {
    // A-law works on 13 bits (rounded, like µ-law above); negative values are
    // one's-complemented so that both signs share the same segments.
    let value = (i32::from(sample) + 4) >> 3;
    let (magnitude, mask) = if value >= 0 {
        (value, 0xd5)
    } else {
        (-value - 1, 0x55)
    };
    // Segments 0 and 1 are both 16 steps of 2 (linear); above that each one doubles.
    let segment = (bit_length(magnitude) - 5).max(0);
    let code = if segment >= 8 {
        0x7f
    } else {
        let shift = if segment < 2 { 1 } else { segment };
        (segment << 4) | ((magnitude >> shift) & 0x0f)
    };
    (code ^ mask) as u8
}

/// Decodes one A-law code to a linear sample.
pub fn alaw_to_linear(code: u8) -> i16 {
    let code = code ^ 0x55;
    let segment = (code >> 4) & 0x07;
    let mantissa = i32::from(code & 0x0f) << 4;
    // The middle of the step: +8 (half of 16) in segment 0, plus the implicit leading one
    // (0x100) from segment 1 up.
    let magnitude = match segment {
        0 => mantissa + 8,
        s => (mantissa + 0x108) << (s - 1),
    };
    (if code & 0x80 != 0 {
        magnitude
    } else {
        -magnitude
    }) as i16
}

/// How many bits `value` (not negative) needs: 0 for 0, 6 for 0x3f, 7 for 0x40.
fn bit_length(value: i32) -> i32 {
    32 - value.leading_zeros() as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_and_full_scale() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x80), 32_124);
        assert_eq!(ulaw_to_linear(0x00), -32_124);
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_alaw(-8), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32_256);
        assert_eq!(alaw_to_linear(0x2a), -32_256);
    }

    #[test]
    fn every_code_survives_decode_then_encode() {
        for code in 0..=255u8 {
            // µ-law has two zeros (0x7f is "negative zero"), both decoding to 0.
            let expected = if code == 0x7f { 0xff } else { code };
            assert_eq!(
                linear_to_ulaw(ulaw_to_linear(code)),
                expected,
                "µ {code:#x}"
            );
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "A {code:#x}");
        }
    }

    #[test]
    fn encoding_is_monotonic_and_close() {
        // Decoded values never decrease as samples grow, and stay within half a step of
        // the sample (a step is at most 1024 in µ-law's top segment, 1024 in A-law's).
        let (mut last_u, mut last_a) = (i16::MIN, i16::MIN);
        for sample in (i16::MIN..=i16::MAX).step_by(7) {
            let u = ulaw_to_linear(linear_to_ulaw(sample));
            let a = alaw_to_linear(linear_to_alaw(sample));
            assert!(u >= last_u && a >= last_a, "{sample}");
            assert!(
                (i32::from(u) - i32::from(sample)).abs() <= 1024,
                "µ {sample} → {u}"
            );
            assert!(
                (i32::from(a) - i32::from(sample)).abs() <= 1024,
                "A {sample} → {a}"
            );
            (last_u, last_a) = (u, a);
        }
    }

    /// Bytes sox 14.4.2 writes for these samples (`sox -D -t s16 -r 8000 -c 1 in -e u-law
    /// -t raw out`, and `-e a-law`; `-D`, or sox dithers).
    #[test]
    fn matches_sox() {
        let samples: [i16; 18] = [
            0, 1, -1, 100, -100, 1000, -1000, 5000, -5000, 20000, -20000, 32767, -32768, -8, 8, 15,
            -16, 4000,
        ];
        let ulaw = [
            0xff, 0xff, 0xff, 0xf2, 0x72, 0xce, 0x4e, 0xab, 0x2b, 0x8c, 0x0c, 0x80, 0x00, 0x7e,
            0xfe, 0xfd, 0x7d, 0xaf,
        ];
        let alaw = [
            0xd5, 0xd5, 0xd5, 0xd3, 0x50, 0xfa, 0x7a, 0x86, 0x06, 0xa6, 0x26, 0xaa, 0x2a, 0x55,
            0xd5, 0xd4, 0x55, 0x9a,
        ];
        for (i, &s) in samples.iter().enumerate() {
            assert_eq!(linear_to_ulaw(s), ulaw[i], "µ-law of {s}");
            assert_eq!(linear_to_alaw(s), alaw[i], "A-law of {s}");
        }
    }

    /// FNV-1a (64-bit) of a byte sequence: a compact fingerprint of a whole table.
    fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
        bytes.into_iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// Every 16-bit sample encodes, and every code decodes, exactly as sox 14.4.2 does:
    /// the fingerprints are of sox's output for all 65,536 samples (`-e u-law`/`-e a-law`,
    /// `-D`) and for all 256 codes (`-t ul`/`-t al` to `-t s16`, little-endian).
    #[test]
    fn whole_tables_match_sox() {
        let samples = || i16::MIN..=i16::MAX;
        assert_eq!(fnv1a(samples().map(linear_to_ulaw)), 0xe1ee_ec5d_0a7b_09f1);
        assert_eq!(fnv1a(samples().map(linear_to_alaw)), 0xb3b7_55e1_69a3_5e25);
        let decoded = |f: fn(u8) -> i16| (0..=255u8).flat_map(move |c| f(c).to_le_bytes());
        assert_eq!(fnv1a(decoded(ulaw_to_linear)), 0xb91e_65d6_8481_a1a8);
        assert_eq!(fnv1a(decoded(alaw_to_linear)), 0x693a_40ca_62a3_d2a5);
    }
}
