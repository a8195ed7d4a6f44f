# Build and run the Character Creator API from Debian 12 packages only.
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential pkg-config autoconf automake \
      libtool libh2o-evloop-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev libjansson-dev libyaml-dev \
      libsodium-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN autoreconf -fi && ./configure --prefix=/usr && make -j"$(nproc)" && make install DESTDIR=/out

FROM debian:12
RUN apt-get update && apt-get install -y --no-install-recommends libh2o-evloop0.13 libssl3 libsqlite3-0 \
      libcurl4 libjansson4 libyaml-0-2 libsodium23 && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/character-api character && mkdir -p /var/lib/character-api \
    && chown character /var/lib/character-api
COPY --from=build /out/usr /usr
USER character
WORKDIR /var/lib/character-api
EXPOSE 8000
# Give API_KEY or API_TOKENS (and DB_URI, DB_USER, DB_PASSWORD for write-through) at run time.
ENTRYPOINT ["character-server", "--bind", "0.0.0.0:8000", "--database", "/var/lib/character-api/character.db", "--migrate"]
