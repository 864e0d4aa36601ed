// oci-validate checks OCI bundles (config.json and root filesystem) against
// the OCI runtime specification with the opencontainers/runtime-tools
// `validate` package, the library behind `oci-runtime-tool validate`.
//
//	oci-validate [--host-specific] [--json] [--compliance-level LEVEL]
//	             [--schema-dir DIR] BUNDLE...
//
// Every check of validate.CheckAll runs, in its order, except that the JSON
// Schema check reads the runtime-spec schema from the local schema directory
// (Debian's golang-github-opencontainers-specs-dev ships it) instead of
// fetching it over HTTPS: this machine has no network, and the upstream
// CheckJSONSchema would try raw.githubusercontent.com. The schema is applied
// to config.json as written, not to its Go round trip.
//
// Output: one line per finding, "BUNDLE: LEVEL: CHECK: MESSAGE [REFERENCE]",
// or with --json one JSON array of {bundle, check, level, message,
// reference, fatal}. Findings below the compliance level (default MUST, as in
// oci-runtime-tool) are printed as warnings and do not fail.
// Exit status: 0 no violation, 1 violations, 2 usage or I/O error.
//
// Build offline (GOPATH mode, against Debian's -dev packages):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o oci-validate oci-validate.go
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"

	multierror "github.com/hashicorp/go-multierror"
	rspec "github.com/opencontainers/runtime-spec/specs-go"
	rfc2119 "github.com/opencontainers/runtime-tools/error"
	"github.com/opencontainers/runtime-tools/specerror"
	"github.com/opencontainers/runtime-tools/validate"
	"github.com/sirupsen/logrus"
	"github.com/xeipuuv/gojsonschema"
)

const defaultSchemaDir = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"

// finding is one result of one check on one bundle.
type finding struct {
	Bundle    string `json:"bundle"`
	Check     string `json:"check"`
	Level     string `json:"level"` // RFC 2119 level, "-" when the check gives none
	Message   string `json:"message"`
	Reference string `json:"reference,omitempty"`
	Fatal     bool   `json:"fatal"` // at or above the compliance level
}

type options struct {
	hostSpecific bool
	asJSON       bool
	level        rfc2119.Level
	schemaDir    string
}

// flatten turns a (possibly nested) multierror into its leaves.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	var merr *multierror.Error
	if errors.As(err, &merr) {
		if merr == nil {
			return nil
		}
		var out []error
		for _, e := range merr.Errors {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// classify makes a finding of one error: spec errors carry their RFC 2119
// level and the spec reference; other errors have no level and are fatal,
// as oci-runtime-tool treats them.
func classify(bundle, check string, e error, min rfc2119.Level) finding {
	f := finding{Bundle: bundle, Check: check, Level: "-", Message: e.Error(), Fatal: true}
	var se *specerror.Error
	if errors.As(e, &se) {
		f.Level = se.Err.Level.String()
		f.Reference = se.Err.Reference
		if se.Err.Err != nil {
			f.Message = se.Err.Err.Error()
		}
		f.Fatal = se.Err.Level >= min
		return f
	}
	var re *rfc2119.Error
	if errors.As(e, &re) {
		f.Level = re.Level.String()
		f.Reference = re.Reference
		if re.Err != nil {
			f.Message = re.Err.Error()
		}
		f.Fatal = re.Level >= min
	}
	return f
}

// run calls one check, turning a panic inside the validator into a finding.
func run(check func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("validator panicked (runtime-tools bug): %v", r)
		}
	}()
	return check()
}

// schemaCheck validates the raw config.json against the local runtime-spec
// JSON Schema (what validate.CheckJSONSchema does with a downloaded one).
func schemaCheck(raw []byte, schemaDir string) error {
	abs, err := filepath.Abs(filepath.Join(schemaDir, "config-schema.json"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return fmt.Errorf("JSON schema: %v", err)
	}
	res, err := gojsonschema.Validate(gojsonschema.NewReferenceLoader("file://"+abs),
		gojsonschema.NewBytesLoader(raw))
	if err != nil {
		return fmt.Errorf("JSON schema %s: %v", abs, err)
	}
	var errs *multierror.Error
	for _, re := range res.Errors() {
		errs = multierror.Append(errs, errors.New(re.String()))
	}
	return errs.ErrorOrNil()
}

// unknownFields lists the members of config.json that this runtime-spec
// version does not define, by JSON path (the validator decodes into specs-go
// and so never sees them). Reported as notes, not violations: newer spec
// versions add fields.
func unknownFields(raw []byte) []string {
	var doc interface{}
	if json.Unmarshal(raw, &doc) != nil {
		return nil
	}
	var out []string
	walk(reflect.TypeOf(rspec.Spec{}), doc, "", &out)
	sort.Strings(out)
	return out
}

func walk(t reflect.Type, v interface{}, path string, out *[]string) {
	for t.Kind() == reflect.Ptr {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj, ok := v.(map[string]interface{})
		if !ok {
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
			if name != "" && name != "-" {
				fields[name] = t.Field(i).Type
			}
		}
		for k, sub := range obj {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if ft, ok := fields[k]; ok {
				walk(ft, sub, p, out)
			} else {
				*out = append(*out, p)
			}
		}
	case reflect.Slice, reflect.Array:
		if arr, ok := v.([]interface{}); ok {
			for i, sub := range arr {
				walk(t.Elem(), sub, fmt.Sprintf("%s[%d]", path, i), out)
			}
		}
	case reflect.Map:
		if obj, ok := v.(map[string]interface{}); ok {
			for k, sub := range obj {
				walk(t.Elem(), sub, path+"."+k, out)
			}
		}
	}
}

// validateBundle runs every check on one bundle.
func validateBundle(bundle string, o options) ([]finding, []string, error) {
	raw, err := ioutil.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, nil, err
	}
	v, err := validate.NewValidatorFromPath(bundle, o.hostSpecific, "linux")
	if err != nil {
		return nil, nil, err
	}
	checks := []struct {
		name string
		fn   func() error
	}{
		{"JSONSchema", func() error { return schemaCheck(raw, o.schemaDir) }},
		{"Platform", v.CheckPlatform},
		{"Root", v.CheckRoot},
		{"MandatoryFields", v.CheckMandatoryFields},
		{"SemVer", v.CheckSemVer},
		{"Mounts", v.CheckMounts},
		{"Process", v.CheckProcess},
		{"Linux", v.CheckLinux},
		{"Annotations", v.CheckAnnotations},
		{"Hooks", v.CheckHooks},
	}
	var out []finding
	for _, c := range checks {
		for _, e := range flatten(run(c.fn)) {
			out = append(out, classify(bundle, c.name, e, o.level))
		}
	}
	return out, unknownFields(raw), nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s [--host-specific] [--json] [--compliance-level LEVEL] "+
		"[--schema-dir DIR] BUNDLE...\n"+
		"Validates each OCI bundle (BUNDLE/config.json and its root filesystem) against the\n"+
		"OCI runtime specification (runtime-tools validate, runtime-spec %s).\n"+
		"Exit status: 0 conformant, 1 violations found, 2 usage or I/O error.\n\n",
		filepath.Base(os.Args[0]), rspec.Version)
	flag.CommandLine.SetOutput(w)
	flag.PrintDefaults()
}

func main() {
	var o options
	var level string
	flag.BoolVar(&o.hostSpecific, "host-specific", false,
		"also run the checks that depend on this host (mount types in /proc/filesystems, "+
			"capabilities the kernel knows, hook files present and executable, network interfaces)")
	flag.BoolVar(&o.asJSON, "json", false, "print the findings as one JSON array")
	flag.StringVar(&level, "compliance-level", "must",
		"lowest RFC 2119 level that fails (may, should, must)")
	flag.StringVar(&o.schemaDir, "schema-dir", defaultSchemaDir,
		"directory holding the runtime-spec JSON schema (config-schema.json)")
	debug := flag.Bool("debug", false, "print the validator's debug log")
	flag.Usage = func() { usage(os.Stderr) }
	help := flag.Bool("help", false, "show this help")
	flag.Parse()
	if *help {
		usage(os.Stdout)
		return
	}
	if flag.NArg() == 0 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	if o.level, err = rfc2119.ParseLevel(level); err != nil {
		fmt.Fprintf(os.Stderr, "oci-validate: --compliance-level: %v\n", err)
		os.Exit(2)
	}
	if o.hostSpecific && runtime.GOOS != "linux" {
		fmt.Fprintf(os.Stderr, "oci-validate: --host-specific needs a linux host\n")
		os.Exit(2)
	}
	logrus.SetOutput(os.Stderr)
	if *debug {
		logrus.SetLevel(logrus.DebugLevel)
	}

	status := 0
	all := []finding{}
	for _, bundle := range flag.Args() {
		found, unknown, err := validateBundle(bundle, o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "oci-validate: %s: %v\n", bundle, err)
			status = 2
			continue
		}
		for _, u := range unknown {
			fmt.Fprintf(os.Stderr, "%s: note: field %s is not in runtime-spec %s, "+
				"not checked\n", bundle, u, rspec.Version)
		}
		fatal := 0
		for _, f := range found {
			if f.Fatal {
				fatal++
			}
			if o.asJSON {
				continue
			}
			kind := "violation"
			if !f.Fatal {
				kind = "warning"
			}
			ref := ""
			if f.Reference != "" {
				ref = " [" + f.Reference + "]"
			}
			fmt.Printf("%s: %s: %s: %s: %s%s\n", bundle, kind, f.Level, f.Check,
				strings.ReplaceAll(f.Message, "\n", " "), ref)
		}
		all = append(all, found...)
		if !o.asJSON {
			if fatal == 0 {
				fmt.Printf("%s: conformant (runtime-spec %s, host-specific %v)\n",
					bundle, rspec.Version, o.hostSpecific)
			} else {
				fmt.Printf("%s: %d violation(s)\n", bundle, fatal)
			}
		}
		if fatal > 0 && status == 0 {
			status = 1
		}
	}
	if o.asJSON {
		b, _ := json.MarshalIndent(all, "", "  ")
		fmt.Println(string(b))
	}
	os.Exit(status)
}
