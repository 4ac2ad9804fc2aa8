package db

import (
	"testing"

	"keydesk/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
