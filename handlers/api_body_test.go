package handlers

import (
	"reflect"
	"testing"
)

func TestUnknownFieldNamesItsPath(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"contact":{"last_name":"Lee"},"budget":1}`, "budget"},
		{`{"vehicle":{"make":"Honda","colour":"red"}}`, "vehicle.colour"},
		{`{"Contact":{"LAST_NAME":"Lee","nick":"Al"}}`, "Contact.nick"}, // keys match any case, as encoding/json does
		{`{"message":"{\"x\":1}","source":"web","vehicle":{"year":2024},"extra":[{"a":1}]}`, "extra"},
		{`{"contact":{"last_name":"Lee"}}`, ""},
		{`{"contact":`, ""},
	}
	for _, tt := range tests {
		if got := unknownField([]byte(tt.body), reflect.TypeOf(&leadInput{})); got != tt.want {
			t.Errorf("unknownField(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
