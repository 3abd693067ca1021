// Command imagetar packs one static binary into a single-layer container image
// and writes it as a tarball in the `docker save` format, which
// `ctr images import` (and `docker load`, `kind load image-archive`) read.
//
// It is how the local cluster gets images without a registry or a Docker
// engine: the pause container (hack/pause), and the operator's manager for the
// local e2e tests.
//
//	CGO_ENABLED=0 go build -o bin/manager ./cmd/manager
//	go run ./hack/imagetar --binary bin/manager --image localhost/labelgroup-operator:e2e --out bin/manager-image.tar
//
// The image holds the binary, at /<basename>, which is also its entrypoint,
// and an /etc/passwd and /etc/group that name its user. It runs as the
// non-root user 65532:65532 (the "nonroot" user of distroless images) so that
// pods may set runAsNonRoot without a runAsUser. The passwd entry matters:
// the kubelet passes the image's uid on to the runtime without its gid, and
// the runtime then takes the gid from /etc/passwd, or 0 (root's group).
// Every timestamp is zero, so the same binary always gives the same image ID.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func main() {
	binary := flag.String("binary", "", "the static binary to pack (required)")
	image := flag.String("image", "", "the image's name and tag, e.g. localhost/pause:dev (required)")
	out := flag.String("out", "", "the tarball to write (required)")
	user := flag.String("user", "65532:65532", "the user (uid:gid) the image runs as")
	arch := flag.String("arch", runtime.GOARCH, "the image's architecture; must match the binary's")
	flag.Parse()
	if *binary == "" || *image == "" || *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*binary, *image, *out, *user, *arch); err != nil {
		log.Fatalf("imagetar: %v", err)
	}
}

func run(binary, image, out, user, arch string) error {
	// WeakValidation lets "pause:dev" mean docker.io/library/pause:dev, as
	// every other tool reads it; prefer a "localhost/" name so that nothing
	// ever tries to pull the image from a real registry.
	tag, err := name.NewTag(image, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("image name: %w", err)
	}
	inImage := "/" + filepath.Base(binary)
	layer, err := binaryLayer(binary, inImage, user)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = arch
	cfg.Config = v1.Config{
		Entrypoint: []string{inImage},
		User:       user,
		WorkingDir: "/",
		// Static Go binaries need no PATH, but tools that inspect images
		// (and kubectl debug) expect one.
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		return err
	}
	if err := tarball.WriteToFile(out, tag, img); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	digest, err := img.ConfigName()
	if err != nil {
		return err
	}
	fmt.Printf("imagetar: wrote %s as %s (image ID %s)\n", out, tag.Name(), digest)
	return nil
}

// binaryLayer returns an uncompressed layer holding the file at path as
// inImage, owned by root and executable by everyone (the image's user only
// needs to run it, never to change it), and /etc/passwd and /etc/group
// entries for root and for user ("uid:gid").
func binaryLayer(path, inImage, user string) (v1.Layer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	uid, gid, ok := strings.Cut(user, ":")
	if !ok {
		gid = uid
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:" + uid + ":" + gid + ":nonroot:/:/sbin/nologin\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnonroot:x:" + gid + ":\n")},
		{inImage[1:], 0o755, data}, // tar paths are relative to the image's root
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "etc/", Mode: 0o755, Format: tar.FormatPAX}); err != nil {
		return nil, err
	}
	for _, f := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
}
