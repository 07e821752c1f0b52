package main

import (
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const totpUsage = `usage: verify-fake totp SECRET

Prints the current code of a TOTP factor from its base32 secret, as an
authenticator app would show it, with the fake's default config (6 digits,
30-second steps, SHA-1): for a factor that verify-fake enrolled or that
Factors.CreateTOTP made on it without Config. Spaces, lower case and "="
padding in SECRET are fine.
`

// totpCommand runs `verify-fake totp SECRET`: it prints the code for
// SECRET at now() and returns the exit status.
func totpCommand(args []string, out, errOut io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("verify-fake totp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(errOut, totpUsage)
		return 0
	case err != nil:
		fmt.Fprintf(errOut, "verify-fake totp: %v\n%s", err, totpUsage)
		return 2
	case fs.NArg() != 1:
		fmt.Fprintf(errOut, "verify-fake totp: want one argument, the secret; got %d\n%s", fs.NArg(), totpUsage)
		return 2
	}
	code, err := totpCode(fs.Arg(0), now())
	if err != nil {
		fmt.Fprintln(errOut, "verify-fake totp:", err)
		return 2
	}
	fmt.Fprintln(out, code)
	return 0
}

// totpCode is the 6-digit, 30-second, SHA-1 TOTP code (RFC 6238) of the
// base32 secret at t.
func totpCode(secret string, t time.Time) (string, error) {
	clean := strings.ToUpper(strings.TrimRight(strings.Join(strings.Fields(secret), ""), "="))
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(clean); err != nil || clean == "" {
		return "", errors.New("the secret must be base32 (letters A-Z and digits 2-7), as verify-fake printed it")
	}
	return totp.GenerateCodeCustom(clean, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
