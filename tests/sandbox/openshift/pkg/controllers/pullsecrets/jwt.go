package pullsecrets

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// tokenFacts is what the controller reads from a service account token without verifying it: which key
// signed it and when it is valid.
type tokenFacts struct {
	keyID     string
	notBefore time.Time
	expiry    time.Time
}

// readToken decodes a compact JWS's header and claims. The signature is not checked: the token is ours (from
// the TokenRequest API); we only need to know when to replace it.
func readToken(token string) (tokenFacts, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return tokenFacts{}, errors.New("not a compact JWS")
	}
	var header struct {
		KeyID string `json:"kid"`
	}
	if err := decodeSegment(parts[0], &header); err != nil {
		return tokenFacts{}, err
	}
	var claims struct {
		NotBefore *float64 `json:"nbf"`
		Expiry    *float64 `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return tokenFacts{}, err
	}
	if claims.NotBefore == nil || claims.Expiry == nil {
		return tokenFacts{}, errors.New("token has no validity period")
	}
	return tokenFacts{keyID: header.KeyID, notBefore: unixTime(*claims.NotBefore), expiry: unixTime(*claims.Expiry)}, nil
}

func decodeSegment(segment string, into any) error {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(segment, "="))
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, into)
}

func unixTime(seconds float64) time.Time {
	return time.Unix(0, int64(seconds*float64(time.Second)))
}
