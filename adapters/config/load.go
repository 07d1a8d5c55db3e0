package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/joho/godotenv"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"
)

// DefaultConfigFile is read when neither WithConfigFile nor CONFIG_FILE names
// another file; it may be absent.
const DefaultConfigFile = "configs/config.yaml"

// DefaultDotenvFile is read in development when WithDotenv names no other
// file; it may be absent.
const DefaultDotenvFile = ".env"

type options struct {
	environ    []string
	configFile string
	dotenvFile string
}

// Option changes where Load reads from.
type Option func(*options)

// WithEnviron replaces the process environment (os.Environ), so that tests
// need not touch it.
func WithEnviron(environ []string) Option { return func(o *options) { o.environ = environ } }

// WithConfigFile names the YAML file to read; it must exist.
func WithConfigFile(path string) Option { return func(o *options) { o.configFile = path } }

// WithDotenv names the .env file read in development; it must exist.
func WithDotenv(path string) Option { return func(o *options) { o.dotenvFile = path } }

// Load reads the configuration: defaults < config file < .env (development
// only) < environment. It fails on a key in the file that authd does not know,
// and on a value that does not parse; it does not call Validate.
//
// Environment variables outside the known names are ignored, because
// platforms set many of their own; an empty variable counts as unset, so that
// "DB_PORT=${DB_PORT}" in a compose file cannot blank a default.
func Load(opts ...Option) (Config, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.environ == nil {
		o.environ = os.Environ()
	}
	procEnv := envMap(o.environ)

	k := koanf.New(".")
	if err := k.Load(confmap.Provider(defaults(), "."), nil); err != nil {
		return Config{}, fmt.Errorf("config: defaults: %w", err)
	}

	path, required := o.configFile, o.configFile != ""
	if !required {
		path, required = procEnv["CONFIG_FILE"], procEnv["CONFIG_FILE"] != ""
	}
	if !required {
		path = DefaultConfigFile
	}
	if err := loadFile(k, path, required); err != nil {
		return Config{}, err
	}

	appEnv := k.String("app.env")
	if v := procEnv["APP_ENV"]; v != "" {
		appEnv = v
	}
	if appEnv == "development" {
		if err := loadDotenv(k, o.dotenvFile); err != nil {
			return Config{}, err
		}
	}

	if err := k.Load(envProvider(o.environ), nil); err != nil {
		return Config{}, fmt.Errorf("config: environment: %w", err)
	}

	var c Config
	if err := unmarshal(k, &c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c.OAuth = readOAuth(c.Auth.OAuthProviders, oauthEnv(procEnv, appEnv == "development", o.dotenvFile))
	// As in better-auth, secondaryStorage makes it the rate limits' storage
	// too, whatever the file says; only the environment can choose another.
	if c.Auth.SecondaryStorage == "redis" && procEnv["AUTH_RATE_LIMIT_STORAGE"] == "" {
		c.Auth.RateLimitStorage = "secondary-storage"
	}
	return c, nil
}

func loadFile(k *koanf.Koanf, path string, required bool) error {
	if _, err := os.Stat(path); err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("config: config file: %w", err)
	}
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
		return fmt.Errorf("config: config file %s: %w", path, err)
	}
	// A misspelt key must not silently leave a default in force. The file is
	// the only source that can hold one: the environment is filtered.
	known := knownKeys()
	var errs []error
	for _, key := range fk.Keys() {
		if _, ok := known[key]; !ok {
			errs = append(errs, fmt.Errorf("unknown key %q", key))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, unmarshal(fk, &Config{}))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("config: config file %s: %w", path, err)
	}
	return k.Merge(fk)
}

func loadDotenv(k *koanf.Koanf, path string) error {
	required := path != ""
	if !required {
		path = DefaultDotenvFile
	}
	// godotenv.Read leaves the process environment alone, unlike Load.
	m, err := godotenv.Read(path)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("config: dotenv file: %w", err)
	}
	environ := make([]string, 0, len(m))
	for name, v := range m {
		environ = append(environ, name+"="+v)
	}
	if err := k.Load(envProvider(environ), nil); err != nil {
		return fmt.Errorf("config: dotenv file %s: %w", path, err)
	}
	return nil
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if name, v, ok := strings.Cut(kv, "="); ok {
			m[name] = v
		}
	}
	return m
}

func envProvider(environ []string) *env.Env {
	known := knownKeys()
	return env.Provider(".", env.Opt{
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, v string) (string, any) {
			key := envKey(name)
			if _, ok := known[key]; !ok || v == "" {
				return "", nil
			}
			return key, v
		},
	})
}

// envKey maps SECTION_FIELD to section.field, splitting at the first
// underscore only (AUTH_BASE_URL is auth.base_url, not auth.base.url).
func envKey(name string) string {
	section, field, ok := strings.Cut(name, "_")
	if !ok {
		return ""
	}
	return strings.ToLower(section) + "." + strings.ToLower(field)
}

// envName is envKey's inverse, for messages.
func envName(key string) string {
	return strings.ToUpper(strings.Replace(key, ".", "_", 1))
}

// knownKeys lists every leaf key of Config ("section.field"), read from the
// koanf tags so that the list cannot drift from the struct.
func knownKeys() map[string]struct{} {
	keys := map[string]struct{}{}
	root := reflect.TypeFor[Config]()
	for i := range root.NumField() {
		sec := root.Field(i)
		for j := range sec.Type.NumField() {
			keys[sec.Tag.Get("koanf")+"."+sec.Type.Field(j).Tag.Get("koanf")] = struct{}{}
		}
	}
	return keys
}

func unmarshal(k *koanf.Koanf, out *Config) error {
	err := k.UnmarshalWithConf("", out, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
			listHook,
			mapstructure.TextUnmarshallerHookFunc(),
		),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
	}})
	return describe(err)
}

// durationHook parses "10s"-style strings and rejects bare numbers, which
// mapstructure would otherwise read as nanoseconds.
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[time.Duration]() {
		return data, nil
	}
	s, ok := data.(string)
	if !ok {
		return nil, fmt.Errorf("must be a duration with a unit, like \"10s\", not %v", data)
	}
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("must be a duration with a unit, like \"10s\": %w", err)
	}
	return d, nil
}

// listHook splits a comma-separated string (the only way to pass a list
// through the environment) and trims the items.
func listHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	out := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out, nil
}

// describe rewrites mapstructure's errors to name the environment variable
// alongside the key, since that is what operators set.
func describe(err error) error {
	if err == nil {
		return nil
	}
	var out []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, inner := range j.Unwrap() {
				walk(inner)
			}
			return
		}
		var de *mapstructure.DecodeError
		if !errors.As(e, &de) {
			out = append(out, e)
			return
		}
		if _, ok := knownKeys()[de.Name()]; ok {
			out = append(out, fmt.Errorf("%s (%s): %w", envName(de.Name()), de.Name(), de.Unwrap()))
			return
		}
		out = append(out, de)
	}
	walk(err)
	return errors.Join(out...)
}
