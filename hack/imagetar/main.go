// Command imagetar packs one static binary into a single-layer container image
// and writes it as a tarball in the `docker save` format, which
// `ctr images import` (and `docker load`, `kind load image-archive`) read.
//
// It is how images get made without a registry or a base image: the pause
// container (hack/pause), the operator's manager for the e2e tests, and the
// control-plane images of the kind node image (hack/kind-node-image.sh).
//
//	CGO_ENABLED=0 go build -o bin/manager ./cmd/manager
//	go -C hack run ./imagetar --binary $PWD/bin/manager --image localhost/labelgroup-operator:e2e --out $PWD/bin/manager-image.tar
//
// The image holds the binary, at /<basename> or --path, which is also its
// entrypoint, and --dir, a directory tree copied in as a second layer (shared
// libraries, say, for a binary that is not static),
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
	path := flag.String("path", "", "where the binary goes in the image (default /<basename>)")
	dir := flag.String("dir", "", "a directory whose tree is added to the image, at the same paths")
	flag.Parse()
	if *binary == "" || *image == "" || *out == "" || flag.NArg() > 0 || (*path != "" && !filepath.IsAbs(*path)) {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*binary, *image, *out, *user, *arch, *path, *dir); err != nil {
		log.Fatalf("imagetar: %v", err)
	}
}

func run(binary, image, out, user, arch, inImage, dir string) error {
	// WeakValidation lets "pause:dev" mean docker.io/library/pause:dev, as
	// every other tool reads it; prefer a "localhost/" name so that nothing
	// ever tries to pull the image from a real registry.
	tag, err := name.NewTag(image, name.WeakValidation)
	if err != nil {
		return fmt.Errorf("image name: %w", err)
	}
	if inImage == "" {
		inImage = "/" + filepath.Base(binary)
	}
	layer, err := binaryLayer(binary, inImage, user)
	if err != nil {
		return err
	}
	layers := []v1.Layer{layer}
	if dir != "" {
		extra, err := dirLayer(dir)
		if err != nil {
			return err
		}
		layers = append(layers, extra)
	}
	img, err := mutate.AppendLayers(empty.Image, layers...)
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
	dirs := []string{"etc/"}
	for d := filepath.Dir(inImage[1:]); d != "."; d = filepath.Dir(d) {
		dirs = append(dirs, d+"/")
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
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

// dirLayer returns an uncompressed layer holding the tree under dir, at the
// same paths relative to the image's root: directories, regular files with
// their modes, and symbolic links, all owned by root, with zero timestamps.
func dirLayer(dir string) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: int64(info.Mode().Perm()), Format: tar.FormatPAX}
		switch {
		case info.IsDir():
			hdr.Typeflag, hdr.Name = tar.TypeDir, hdr.Name+"/"
		case info.Mode()&os.ModeSymlink != 0:
			hdr.Typeflag = tar.TypeSymlink
			if hdr.Linkname, err = os.Readlink(path); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		default:
			return fmt.Errorf("%s: only directories, files and symbolic links can go into an image", path)
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layerBytes := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	})
}
