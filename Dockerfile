# syntax=docker/dockerfile:1
# Build stage: a static binary for the target platform (cross-compiled, no emulation).
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w" -o /out/gitops-promote ./cmd/gitops-promote

# Final stage: distroless static (CA certificates, tzdata, no shell, no git).
# It runs as root on purpose: GitHub runs Docker actions as the image's default user and the
# runner's output files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) are writable by root only.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/gitops-promote /usr/local/bin/gitops-promote
ENTRYPOINT ["/usr/local/bin/gitops-promote"]
CMD ["run"]
