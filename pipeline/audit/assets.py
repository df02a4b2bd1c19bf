"""The style and the small script every page carries inline: no CDN, no web font, readable without
JavaScript (the script only sorts and filters the index)."""

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5rem;
color:#212529;line-height:1.4}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #dee2e6}
h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;margin:.4rem 0 1rem}td,th{border:1px solid #ced4da;padding:.2rem .45rem;font-size:.85rem}
th{background:#f1f3f5;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;min-width:2.2rem}
.reported{background:#ebfbee}.blank{background:#f8f9fa;color:#868e96}.ambiguous{background:#fff3bf}
.derived{background:#e7f5ff}.not_printed{background:#f1f3f5;color:#adb5bd}.missing{background:#fff}
.conflict{background:#ffe8cc}td.finding{outline:2px solid #e03131;outline-offset:-2px}
.swatch{display:inline-block;width:.9rem;height:.9rem;vertical-align:middle;margin-right:.25rem;border:1px solid #adb5bd}
td a{color:inherit;text-decoration:none;display:block}.badge{color:#c92a2a;font-size:.7rem;vertical-align:super}
.legend-item{display:inline-block;margin-right:.8rem;font-size:.8rem}
.meta td{border:none;padding:.1rem .6rem .1rem 0}.meta th{border:none;background:none;text-align:left;padding-right:.8rem}
.failed{color:#c92a2a;font-weight:600}.passed{color:#2b8a3e}.not_assessable{color:#e67700}
.stub{background:#f8f9fa;text-align:left}ul.findings li{margin:.25rem 0}.q{color:#495057}
nav a{margin-right:1rem}#filters input,#filters select{margin-right:.6rem}
th.sortable{cursor:pointer}th.sortable:after{content:" \\2195";color:#adb5bd}
.small{font-size:.8rem;color:#495057}
"""

# Sorting and filtering of the index; the table is complete and readable without it.
INDEX_JS = """
(function(){
var table=document.getElementById('reports');if(!table)return;
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
function val(r,i){var c=r.cells[i];return c?(c.getAttribute('data-sort')||c.textContent).trim():''}
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){th.className+=' sortable';
 th.addEventListener('click',function(){var asc=th.getAttribute('data-dir')!=='asc';th.setAttribute('data-dir',asc?'asc':'desc');
  rows.sort(function(a,b){var x=val(a,i),y=val(b,i),nx=parseFloat(x),ny=parseFloat(y);
   var d=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y,'zh');return asc?d:-d});
  rows.forEach(function(r){body.appendChild(r)})})});
var agency=document.getElementById('f-agency'),year=document.getElementById('f-year'),fam=document.getElementById('f-family');
function apply(){var a=agency.value.trim(),y=year.value,f=fam.value,shown=0;rows.forEach(function(r){
 var ok=(!a||r.getAttribute('data-agency').indexOf(a)>=0)&&(!y||r.getAttribute('data-year')===y)&&
  (!f||(' '+r.getAttribute('data-failed')+' ').indexOf(' '+f+' ')>=0);r.style.display=ok?'':'none';if(ok)shown++});
 document.getElementById('shown').textContent=shown}
[agency,year,fam].forEach(function(e){e.addEventListener('input',apply);e.addEventListener('change',apply)});
document.getElementById('filters').style.display='';
})();
"""
