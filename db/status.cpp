#include "db/status.h"
// Status is header-only; this unit keeps the library non-empty until the store lands.
