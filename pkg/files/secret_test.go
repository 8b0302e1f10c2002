package files

import "testing"

func TestSecretLine(t *testing.T) {
	for in, want := range map[string]string{
		"nagios:s3cret\n":         "nagios:s3cret",
		"nagios:s3cret\r\nmore\n": "nagios:s3cret",
		"\uFEFFnagios:s3cret\r\n": "nagios:s3cret",
		"no newline":              "no newline",
		"":                        "",
		" spaces kept \n":         " spaces kept ",
	} {
		if got := SecretLine([]byte(in)); got != want {
			t.Errorf("SecretLine(%q) = %q, want %q", in, got, want)
		}
	}
}
