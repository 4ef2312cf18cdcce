//! Status codes (SyncML RepPro 1.2 §10, DIGEST.md §2.4) and alert codes (DM RepPro 1.2 §4.2,
//! DM Protocol 1.3 §8-§11, Sessionless Reporting 1.3), as named constants with their meanings.

use std::fmt;

macro_rules! code_table {
    ($ty:ident, $doc:literal, $( $name:ident = $value:literal, $meaning:literal; )*) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $ty(pub u16);

        impl $ty {
            $( #[doc = $meaning] pub const $name: $ty = $ty($value); )*

            /// The meaning the specification gives this code, if it assigns one.
            pub fn meaning(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($meaning), )*
                    _ => None,
                }
            }

            /// Parses the decimal text carried in a `Data` element (surrounding whitespace allowed).
            pub fn parse(text: &str) -> Option<$ty> {
                text.trim().parse::<u16>().ok().map($ty)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl From<$ty> for u16 {
            fn from(c: $ty) -> u16 {
                c.0
            }
        }
    };
}

code_table! {
    StatusCode, "A SyncML status code, as carried in `Status/Data`.",
    IN_PROGRESS = 101, "In progress";
    OK = 200, "OK";
    ITEM_ADDED = 201, "Item added";
    ACCEPTED = 202, "Accepted for processing";
    NON_AUTHORITATIVE = 203, "Non-authoritative response";
    NO_CONTENT = 204, "No content";
    RESET_CONTENT = 205, "Reset content";
    PARTIAL_CONTENT = 206, "Partial content";
    CONFLICT_MERGED = 207, "Conflict resolved with merge";
    CONFLICT_CLIENT_WON = 208, "Conflict resolved with client's command winning";
    CONFLICT_DUPLICATE = 209, "Conflict resolved with duplicate";
    DELETE_WITHOUT_ARCHIVE = 210, "Delete without archive";
    ITEM_NOT_DELETED = 211, "Item not deleted";
    AUTHENTICATION_ACCEPTED = 212, "Authentication accepted";
    CHUNKED_ITEM_ACCEPTED = 213, "Chunked item accepted and buffered";
    OPERATION_CANCELLED = 214, "Operation cancelled";
    NOT_EXECUTED = 215, "Not executed";
    ATOMIC_ROLLBACK_OK = 216, "Atomic roll back OK";
    MULTIPLE_CHOICES = 300, "Multiple choices";
    MOVED_PERMANENTLY = 301, "Moved permanently";
    FOUND = 302, "Found";
    SEE_OTHER = 303, "See other";
    NOT_MODIFIED = 304, "Not modified";
    USE_PROXY = 305, "Use proxy";
    BAD_REQUEST = 400, "Bad request";
    INVALID_CREDENTIALS = 401, "Invalid credentials";
    PAYMENT_REQUIRED = 402, "Payment required";
    FORBIDDEN = 403, "Forbidden";
    NOT_FOUND = 404, "Not found";
    COMMAND_NOT_ALLOWED = 405, "Command not allowed";
    OPTIONAL_FEATURE_NOT_SUPPORTED = 406, "Optional feature not supported";
    MISSING_CREDENTIALS = 407, "Missing credentials";
    REQUEST_TIMEOUT = 408, "Request timeout";
    CONFLICT = 409, "Conflict";
    GONE = 410, "Gone";
    SIZE_REQUIRED = 411, "Size required";
    INCOMPLETE_COMMAND = 412, "Incomplete command";
    REQUEST_ENTITY_TOO_LARGE = 413, "Request entity too large";
    URI_TOO_LONG = 414, "URI too long";
    UNSUPPORTED_MEDIA_TYPE = 415, "Unsupported media type or format";
    REQUESTED_SIZE_TOO_BIG = 416, "Requested size too big";
    RETRY_LATER = 417, "Retry later";
    ALREADY_EXISTS = 418, "Already exists";
    CONFLICT_SERVER_DATA = 419, "Conflict resolved with server data";
    DEVICE_FULL = 420, "Device full";
    UNKNOWN_SEARCH_GRAMMAR = 421, "Unknown search grammar";
    BAD_CGI_SCRIPT = 422, "Bad CGI script";
    SOFT_DELETE_CONFLICT = 423, "Soft-delete conflict";
    SIZE_MISMATCH = 424, "Size mismatch";
    PERMISSION_DENIED = 425, "Permission denied";
    PARTIAL_ITEM_NOT_ACCEPTED = 426, "Partial item not accepted";
    ITEM_NOT_EMPTY = 427, "Item not empty";
    MOVE_FAILED = 428, "Move failed";
    COMMAND_FAILED = 500, "Command failed";
    COMMAND_NOT_IMPLEMENTED = 501, "Command not implemented";
    BAD_GATEWAY = 502, "Bad gateway";
    SERVICE_UNAVAILABLE = 503, "Service unavailable";
    GATEWAY_TIMEOUT = 504, "Gateway timeout";
    DTD_VERSION_NOT_SUPPORTED = 505, "DTD version not supported";
    PROCESSING_ERROR = 506, "Processing error";
    ATOMIC_FAILED = 507, "Atomic failed";
    REFRESH_REQUIRED = 508, "Refresh required";
    DATA_STORE_FAILURE = 510, "Data store failure";
    SERVER_FAILURE = 511, "Server failure";
    SYNCHRONIZATION_FAILED = 512, "Synchronization failed";
    PROTOCOL_VERSION_NOT_SUPPORTED = 513, "Protocol version not supported";
    OPERATION_CANCELLED_5XX = 514, "Operation cancelled";
    ATOMIC_ROLLBACK_FAILED = 516, "Atomic roll back failed";
    ATOMIC_RESPONSE_TOO_LARGE = 517, "Atomic response too large to fit";
}

code_table! {
    AlertCode, "A DM alert code, as carried in `Alert/Data`.",
    DISPLAY = 1100, "User interaction: display a message";
    CONFIRM_OR_REJECT = 1101, "User interaction: confirm or reject";
    TEXT_INPUT = 1102, "User interaction: text input";
    SINGLE_CHOICE = 1103, "User interaction: single choice";
    MULTIPLE_CHOICE = 1104, "User interaction: multiple choice";
    SERVER_INITIATED_MGMT = 1200, "Server-initiated management session";
    CLIENT_INITIATED_MGMT = 1201, "Client-initiated management session";
    NEXT_MESSAGE = 1222, "Next message of a package requested";
    SESSION_ABORT = 1223, "Session abort";
    CLIENT_EVENT = 1224, "Client event";
    NO_END_OF_DATA = 1225, "End of data for a chunked object not received";
    GENERIC = 1226, "Generic alert";
    TREE_CHANGE_SUMMARY = 1227, "Management tree change summary (DM 1.3)";
    TREE_CHANGE_DETAIL = 1228, "Management tree change detail (DM 1.3)";
    REQUESTED_MO = 1229, "Requested management objects (DM 1.3)";
    SESSIONLESS_REPORT = 1230, "Sessionless report (DM Sessionless Reporting 1.3)";
}

impl StatusCode {
    /// 2xx codes report success.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
}

impl AlertCode {
    /// 1100-1104: alerts that need the user.
    pub fn is_user_interaction(self) -> bool {
        (1100..=1104).contains(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meanings_and_parsing() {
        assert_eq!(
            StatusCode::parse(" 212 "),
            Some(StatusCode::AUTHENTICATION_ACCEPTED)
        );
        assert_eq!(StatusCode(424).meaning(), Some("Size mismatch"));
        assert_eq!(StatusCode(515).meaning(), None);
        assert_eq!(AlertCode::parse("1226"), Some(AlertCode::GENERIC));
        assert!(AlertCode::CONFIRM_OR_REJECT.is_user_interaction());
        assert!(StatusCode::CHUNKED_ITEM_ACCEPTED.is_success());
        assert_eq!(StatusCode::parse("abc"), None);
    }
}
