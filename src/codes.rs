//! One table per code space (opcodes, error codes, frame types): the constants, an enum whose
//! matches the compiler checks for exhaustiveness, the names for `Display` and for Wireshark's
//! value strings all come from one `code_table!`. Pure Rust.

/// Declares a code space once:
///
/// ```ignore
/// code_table! {
///     /// Error codes of RST_STREAM and GOAWAY (RFC 9113 section 7).
///     pub enum ErrorCode: u32 in error_code {
///         NO_ERROR / NoError = 0x0 => "NO_ERROR",
///         PROTOCOL_ERROR / ProtocolError = 0x1 => "PROTOCOL_ERROR",
///     }
/// }
/// ```
///
/// gives `enum ErrorCode { NoError, ProtocolError }` with `code()`, `from_code()`,
/// `name()`, `ALL` and `NAMES` (`(u32, &CStr)` pairs for a field's value string; negative
/// codes as their two's complement, as Wireshark's `value_string` holds them), `Display`,
/// and `mod error_code { pub const NO_ERROR: u32 = 0x0; ... }` for matching raw values.
#[macro_export]
macro_rules! code_table {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ident in $consts:ident {
            $( $(#[$vmeta:meta])* $konst:ident / $variant:ident = $code:literal => $label:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        $(#[$meta])*
        #[allow(dead_code)]
        $vis mod $consts {
            $( pub const $konst: $repr = $code; )+
        }

        #[allow(dead_code)]
        impl $name {
            /// Every code, in table order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// `(code, name)` pairs for a field's value string.
            pub const NAMES: &'static [(u32, &'static ::std::ffi::CStr)] = &[
                $( ({ let code: $repr = $code; code as u32 }, match ::std::ffi::CStr::from_bytes_with_nul(
                    concat!($label, "\0").as_bytes(),
                ) {
                    Ok(c) => c,
                    Err(_) => panic!("a code name holds a NUL"),
                }), )+
            ];

            pub const fn code(self) -> $repr {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            pub const fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }

            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $label, )+
                }
            }

            /// The name of a raw code, if the table knows it.
            pub fn name_of(code: $repr) -> Option<&'static str> {
                Self::from_code(code).map(Self::name)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

#[cfg(test)]
mod tests {
    code_table! {
        /// A test space with a negative code.
        pub enum Sample: i32 in sample {
            ZERO / Zero = 0 => "zero",
            MINUS_TEN / MinusTen = -10 => "minusTen",
        }
    }

    #[test]
    fn every_view_of_the_table_agrees() {
        assert_eq!(sample::MINUS_TEN, -10);
        assert_eq!(Sample::from_code(-10), Some(Sample::MinusTen));
        assert_eq!(Sample::from_code(1), None);
        assert_eq!(Sample::MinusTen.code(), -10);
        assert_eq!(Sample::name_of(0), Some("zero"));
        assert_eq!(Sample::MinusTen.to_string(), "minusTen");
        assert_eq!(Sample::NAMES[1].0, -10i32 as u32);
        assert_eq!(Sample::NAMES[1].1, c"minusTen");
        assert_eq!(Sample::ALL.len(), Sample::NAMES.len());
    }
}
