package cql2
import ("testing";"math";"github.com/paulmach/orb";"github.com/csdi-hk/csdi/geo")
func circle(n int, r float64) orb.Polygon { var ring orb.Ring; for i:=0;i<n;i++{a:=2*math.Pi*float64(i)/float64(n); ring=append(ring, orb.Point{114+r*math.Cos(a), 22.3+r*math.Sin(a)})}; ring=append(ring, ring[0]); return orb.Polygon{ring} }
func BenchmarkPointInBigPolygon(b *testing.B) { e,_:=Resolve(Spatial{Op:"s_intersects",A:Property{Name:"geometry"},B:Geometry{G:circle(1000,0.1)}},nil,nil); f:=geo.Feature{Geometry:orb.Point{114.01,22.31}}; for b.Loop(){Eval(e,&f)} }
func BenchmarkBigPolygonInBox(b *testing.B) { e,_:=Resolve(Spatial{Op:"s_intersects",A:Property{Name:"geometry"},B:BBox{113.95,22.25,114.05,22.35}},nil,nil); f:=geo.Feature{Geometry:circle(1000,0.1)}; for b.Loop(){Eval(e,&f)} }
func BenchmarkSmallPolygonWithin(b *testing.B) { e,_:=Resolve(Spatial{Op:"s_within",A:Property{Name:"geometry"},B:Geometry{G:circle(50,0.1)}},nil,nil); f:=geo.Feature{Geometry:circle(20,0.01)}; for b.Loop(){Eval(e,&f)} }
