#!/usr/bin/env bash
# Regenerates the WKT samples with GDAL's gdalsrsinfo (GDAL 3.6.2, PROJ 9.1.1
# made the committed ones); run it from anywhere. A file is named <code>.<format>.wkt, the code
# being what FromWKT must answer; reject/ holds CRSs it must refuse.
# 2326.arcgis.prj is not generated: it is the .prj ArcGIS writes, typed in.
set -euo pipefail
cd "$(dirname "$0")"
formats="wkt1 wkt_simple wkt_noct wkt_esri wkt2_2015 wkt2_2019"
for code in EPSG:2326 EPSG:4326 EPSG:4611 EPSG:3857; do
  for f in $formats; do
    gdalsrsinfo -o "$f" "$code" | sed '/^$/d' > "${code#*:}.$f.wkt"
  done
done
# Only these keep CRS84's lon, lat axes; the others are plain EPSG:4326.
for f in wkt1 wkt2_2015 wkt2_2019; do
  gdalsrsinfo -o "$f" OGC:CRS84 | sed '/^$/d' > "CRS84.$f.wkt"
done
# +towgs84 gives a WKT1 TOWGS84 clause and a WKT2 BOUNDCRS.
p='+proj=tmerc +lat_0=22.3121333333333 +lon_0=114.178555555556 +k=1 +x_0=836694.05 +y_0=819069.8 +ellps=intl +towgs84=-162.619,-276.959,-161.764,0.067753,-2.243648,-1.158828,-1.094246 +units=m +no_defs'
gdalsrsinfo -o wkt1 "$p" | sed '/^$/d' > 2326.towgs84-wkt1.wkt
gdalsrsinfo -o wkt2 "$p" | sed '/^$/d' > 2326.towgs84-wkt2.wkt
gdalsrsinfo -o wkt2 EPSG:2326+5738 | sed '/^$/d' > 2326.compound-wkt2.wkt
gdalsrsinfo -o wkt1 EPSG:2326+5738 | sed '/^$/d' > 2326.compound-wkt1.wkt
# Look-alikes: World Mercator, ED50 (International 1924 like HK1980), UTM on
# WGS 84, the HK1980 Grid moved 1 km, and in US feet.
for code in EPSG:3395 EPSG:4230 EPSG:32650 EPSG:4978; do
  for f in wkt1 wkt_esri wkt2; do
    [ "$code$f" = EPSG:4978wkt_esri ] && continue # ESRI WKT has no geocentric CRS
    gdalsrsinfo -o "$f" "$code" | sed '/^$/d' > "reject/${code#*:}.$f.wkt"
  done
done
for f in wkt1 wkt_esri wkt2; do
  gdalsrsinfo -o "$f" "${p/x_0=836694.05/x_0=837694.05}" | sed '/^$/d' > "reject/2326-moved.$f.wkt"
  gdalsrsinfo -o "$f" "${p/+units=m/+units=us-ft}" | sed '/^$/d' > "reject/2326-usft.$f.wkt"
done
