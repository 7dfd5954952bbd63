import requests
import json
# Configuration
ATS_BASE_URL = "https://your-ats-domain.com/recruitment/integration/erp/"
API_KEY = "your_api_key_here"
SOURCE_NAME = "Main_ERP"
# Create job
def create_job(job_data):
    url = f"{ATS_BASE_URL}create-job/"
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": API_KEY
    }
    payload = {
        "action": "create_job",
        "source_name": SOURCE_NAME,
        **job_data
    }
    response = requests.post(url, headers=headers, json=payload)
    return response.json()
# Update job
def update_job(job_id, update_data):
    url = f"{ATS_BASE_URL}update-job/"
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": API_KEY
    }
    payload = {
        "action": "update_job",
        "source_name": SOURCE_NAME,
        "job_id": job_id,
        **update_data
    }
    response = requests.post(url, headers=headers, json=payload)
    return response.json()
# Example usage
job_data = {
    "title": "Software Engineer",
    "department": "IT",
    "application_url": "https://careers.example.com/job/123"
}
result = create_job(job_data)
print(json.dumps(result, indent=2))
